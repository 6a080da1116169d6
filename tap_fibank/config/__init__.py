"""The configuration: every setting declared once and checked once.

The settings' names, types and descriptions are part of the tap's contract; what a run is handed
(settings, state, catalog, the password or the command that prints it) is checked before the SDK
reads it, so a bad input gets one clear line instead of a traceback.
"""
