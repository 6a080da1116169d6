#!/bin/sh
# Runs a command that writes bank data (meltano and its loaders, dbt, the report) so that what it
# writes is the user's alone: files 0600 and folders 0700 whatever the caller's umask. output/ and
# Meltano's state, logs and run files are closed to other users first, in case an older checkout
# (or a run without this script) left them open.
#
#   scripts/private.sh COMMAND [ARGUMENT...]      from the project's root (the Makefile's targets use it)
set -eu
umask 077
sys_dir=${MELTANO_SYS_DIR_ROOT:-.meltano}
mkdir -p output "$sys_dir"
chmod -R go-rwx output
chmod go-rwx "$sys_dir"
for kept in "$sys_dir"/meltano.db* "$sys_dir"/logs "$sys_dir"/run "$sys_dir"/logins; do
  if [ -e "$kept" ]; then chmod -R go-rwx "$kept"; fi
done
exec "$@"
