#!/bin/sh
# Stands in for a ptxas that runs but cannot assemble: `packjit aot` must
# stop with its messages and write no bundle.
case "$1" in
--version) echo "Cuda compilation tools, release 99.0, V99.0.1" ;;
*)
  echo "ptxas fatal   : Unresolved extern function 'made_up'" >&2
  echo "ptxas fatal   : Ptx assembly aborted due to errors" >&2
  exit 255
  ;;
esac
