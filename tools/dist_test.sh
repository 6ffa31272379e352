#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG NUM_PROCS [CHECKPOINT] [tools/test.py options]
# Runs tools/test.py under torchrun; on CPU the gloo backend is used.
set -euo pipefail
CONFIG=$1
NPROCS=$2
shift 2
PORT=${PORT:-29511}
PYTHON=${PYTHON:-python}
exec "$PYTHON" -m torch.distributed.run \
    --nnodes=1 --node_rank=0 --master_addr=127.0.0.1 \
    --nproc_per_node="$NPROCS" --master_port="$PORT" \
    "$(dirname "$0")/test.py" "$CONFIG" "$@" --launcher pytorch
