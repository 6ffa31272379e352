#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG [CHECKPOINT] GPUS [tools/test.py options]
# (mmpose's order). Runs tools/test.py in GPUS processes under torchrun;
# without GPUs the processes run on CPU with the gloo backend.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG [CHECKPOINT] GPUS [tools/test.py options]" >&2
    exit 2
fi
CONFIG=$1
is_count() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
if is_count "$2" && { [ $# -eq 2 ] || [[ $3 == -* ]]; }; then
    CHECKPOINT=""
    GPUS=$2
    shift 2
else
    if [ $# -lt 3 ] || ! is_count "$3"; then
        echo "$0: error: GPUS (a process count) must follow CONFIG" \
            "[CHECKPOINT]" >&2
        exit 2
    fi
    CHECKPOINT=$2
    GPUS=$3
    shift 3
fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$(dirname "$0")/test.py" "$CONFIG" ${CHECKPOINT:+"$CHECKPOINT"} \
    --launcher pytorch "$@"
