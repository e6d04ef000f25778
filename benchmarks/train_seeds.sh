#!/usr/bin/env bash
# The default-model recipe trained with several seeds at once, on one fixed validation split (--split-seed 13),
# then every run scored beside the shipped model on that split (benchmarks/train_validation.py, ONNX on the CPU,
# the path that ships). Sized for a GPU machine, where the runs share the card; on the 2-core CPU each run takes
# about 20 minutes, so run one seed at a time there.
#
#   SEEDS="1 2 3" bash benchmarks/train_seeds.sh ../shared/datasets runs/seeds
#
# Writes RESULTS/seedN/ (crossrank train run folders), RESULTS/seedN.log and RESULTS/validation.json.
# EXTRA_MODELS: more model folders to score beside them; VALIDATE=0: train only; TRAIN=0: score existing runs.
# EXTRA_ARGS: crossrank train options that override the recipe's (the last of a repeated option wins), e.g.
#   EXTRA_ARGS="--base all-MiniLM-L6-v2 --lr 5e-5 --validation-retriever bm25"
set -u
DATA=${1:-../shared/datasets}
RESULTS=${2:-runs/seeds}
SEEDS=${SEEDS:-"1 2 3"}
TRAIN_TIMEOUT=${TRAIN_TIMEOUT:-3600}
PYTHON=${PYTHON:-python3}
TRAIN=${TRAIN:-1}
VALIDATE=${VALIDATE:-1}
EXTRA_MODELS=${EXTRA_MODELS:-}
read -r -a EXTRA <<<"${EXTRA_ARGS:-}"
RECIPE=(--base splade-tiny --lr 3e-4 --max-steps 600 --eval-every 100 --pseudo-queries 1500 --retriever union
  --depth 50 --max-similarity-ratio 10 --validation-queries 150 --validation-fraction 0.2 --patience 8 --ema 0.99
  --split-seed 13)
mkdir -p "$RESULTS"
started=$(date +%s)
for seed in $SEEDS; do
  [ "$TRAIN" = 1 ] || break
  timeout "$TRAIN_TIMEOUT" "$PYTHON" -m crossrank train "$DATA/scifact" "$DATA/nfcorpus" --out "$RESULTS/seed$seed" \
    "${RECIPE[@]}" --seed "$seed" "${EXTRA[@]}" --quiet >"$RESULTS/seed$seed.log" 2>&1 &
done
wait
echo "training: $(($(date +%s) - started)) s for seeds $SEEDS"
[ "$VALIDATE" = 1 ] || exit 0
read -r -a models <<<"$EXTRA_MODELS"
for seed in $SEEDS; do
  if [ -f "$RESULTS/seed$seed/model/model.onnx" ]; then models+=("$RESULTS/seed$seed/model"); else
    echo "seed $seed: no exported model (see $RESULTS/seed$seed.log)"; tail -5 "$RESULTS/seed$seed.log"; fi
done
"$PYTHON" benchmarks/train_validation.py --data "$DATA" default "${models[@]}" --validation-queries 150 \
  --validation-fraction 0.2 --seed 13 --stages hybrid --backend onnx --device cpu --json "$RESULTS/validation.json"
echo "all: $(($(date +%s) - started)) s"
