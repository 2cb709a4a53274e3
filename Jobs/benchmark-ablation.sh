# The ablation mode of Jobs/benchmark (sourced by it, in the output folder, after the cohort is
# made; uses $repo, $bin, $commit, timed). Each row of Jobs/benchmark-ablation.rows: its job file
# (ablation/NAME/job.env), tile (rows that tile alike share one store, linked as ablation/NAME/store),
# train, predict the test split and the held-out sites; then one report with every row (with each
# row's QC against the truth, from its store's QC tables).

# Keys that change only training or prediction: rows differing only in these share a store. Every
# other key (including ones this script has never heard of) counts as a tiling key.
ablation_nontiling_keys="NAME RANKS TESSERA_LAUNCHER STORE RUN MODEL INPUT_SIZE EPOCHS BATCH LEARNING_RATE OPTIMIZER"
ablation_nontiling_keys+=" WEIGHT_DECAY WARMUP_EPOCHS SCHEDULE TRAIN_SEED JITTER CHECKPOINT_EVERY TRAIN_THREADS NO_AUGMENT"
ablation_nontiling_keys+=" STAIN_NORM STAIN_REFERENCE HED_JITTER PREDICTIONS TILE_SCORES HEATMAPS HEATMAP_SIZE PREDICT_SHARDS"
ablation_nontiling_keys+=" PREDICT_THREADS PREDICT_BATCH BOOTSTRAP BOOTSTRAP_SEED BEST_MODEL GEOJSON PREDICT_MAX_RUNNING"
ablation_nontiling_keys+=" FEATURES MIL MIL_RUN MIL_EPOCHS MIL_BAG_CAP MIL_HIDDEN MIL_BAGS_PER_STEP MIL_LEARNING_RATE"
ablation_nontiling_keys=" $ablation_nontiling_keys MIL_WEIGHT_DECAY MIL_DROPOUT MIL_SEED MIL_THREADS "

# Whether this build's job files know the key of KEY=VALUE: a job file holding only it passes the
# programs' key check (tessera-train --job FILE --help checks the keys, then prints its help).
ablation_known_key() {
  local probe=ablation/.probe.env
  printf '%s\n' "$1" > "$probe"
  "$bin/tessera-train" --job "$probe" --help > /dev/null 2>&1
}

# times.txt for the report: synth, then each row's pipeline and held-out prediction (wall, CPU).
stage_times() {
  { awk '{ print $1, $2, $3 + $4 }' times.raw; [[ ! -f ablation/times.raw ]] || awk '{ print $1, $2, $3 + $4 }' ablation/times.raw; } > times.txt
}

# Writes ablation/NAME/job.env: Jobs/benchmark.env with OVERRIDES (KEY=VALUE …) in place, the
# store chosen by the tiling keys, the run, predictions and features (MIL) in the row's folder; and
# ablation/NAME/overrides.txt: SHOWN, the keys the report lists for the row.
ablation_job() {
  local name=$1 overrides=$2 shown=$3 dir=ablation/$1 pair key
  mkdir -p "$dir"
  local job=$dir/job.env
  cp "$repo/Jobs/benchmark.env" "$job.tmp"
  for pair in $overrides RUN=$dir/run PREDICTIONS=$dir/predictions FEATURES=$dir/features MIL_RUN=$dir/predictions; do
    key=${pair%%=*}
    grep -v "^$key=" "$job.tmp" > "$job.tmp2" || true
    mv "$job.tmp2" "$job.tmp"
    printf '%s\n' "$pair" >> "$job.tmp"
  done
  # The store: one per distinct set of tiling keys and values.
  local signature
  signature=$(grep -E '^[A-Z_]+=' "$job.tmp" | sed 's/[[:space:]]*#.*$//' | while IFS= read -r line; do
    [[ $ablation_nontiling_keys == *" ${line%%=*} "* ]] || printf '%s\n' "$line"; done | sort | md5sum | cut -c1-10)
  grep -v '^STORE=' "$job.tmp" > "$job"
  rm -f "$job.tmp"
  printf 'STORE=ablation/stores/%s\n' "$signature" >> "$job"
  # The report judges the row's QC from the store's QC tables.
  ln -sfn "../stores/$signature" "$dir/store"
  printf '%s\n' "$shown" > "$dir/overrides.txt"
}

# Runs one row: pipeline, then the held-out sites. Stage times in ablation/NAME/times.raw.
ablation_run_row() {
  local name=$1 dir=ablation/$1
  echo "== ablation row $name: $(cat "$dir/overrides.txt") (store $(grep '^STORE=' "$dir/job.env" | cut -d= -f2))"
  /usr/bin/time -f "$name %e %U %S" -a -o ablation/times.raw env TESSERA_BIN="$bin" "$repo/Jobs/run-local" "$dir/job.env" \
    --allow-failed-slides > "$dir/pipeline.log" 2>&1 || { echo "ablation: row $name failed; see $dir/pipeline.log" >&2; tail -5 "$dir/pipeline.log" >&2; return 1; }
  if [[ -s cohort/manifest-heldout.csv ]]; then
    rm -rf "$dir/predictions-heldout"
    /usr/bin/time -f "$name-held-out %e %U %S" -a -o ablation/times.raw "$bin/tessera-predict" --model "$dir/run/model.tsm" \
      --manifest cohort/manifest-heldout.csv --out "$dir/predictions-heldout" --tile-scores --assume-mpp 0.5 --threads 2 \
      > "$dir/predict-heldout.log" 2>&1 || [[ $? -eq 3 ]]
    "$bin/tessera-predict" merge --out "$dir/predictions-heldout" >> "$dir/predict-heldout.log" 2>&1 || [[ $? -eq 3 ]]
  fi
}

# The report over the rows done so far (the baseline's splits as the main table).
ablation_report() {
  local out=$1; shift
  local args=() name
  for name in "$@"; do args+=(--ablation-row "$name=ablation/$name"); done
  local runs=(--run site-mixed=ablation/baseline/predictions)
  [[ -d ablation/baseline/predictions-heldout ]] && runs+=(--run site-held-out=ablation/baseline/predictions-heldout)
  "$bin/tessera-benchmark" report --cohort cohort --tile-size 512 --mpp 0.5 --assume-mpp 0.5 "${runs[@]}" "${args[@]}" \
    --timings times.txt --commit "$commit" --out "$out"
}

run_ablation() {
  local rows_file=${TESSERA_BENCH_ROWS:-$repo/Jobs/benchmark-ablation.rows}
  [[ -r "$rows_file" ]] || { echo "ablation: rows file $rows_file is not readable (TESSERA_BENCH_ROWS)" >&2; exit 64; }
  mkdir -p ablation
  rm -f ablation/times.raw
  local names=() name overrides shown baseline="" key pair kept done_rows=() best_pending=""
  while read -r name overrides; do
    [[ -z $name || $name == \#* ]] && continue
    if [[ $overrides == @best ]]; then best_pending=$name; continue; fi
    if [[ ${#names[@]} -eq 0 ]]; then
      kept=""
      # TESSERA_BENCH_OVERRIDES (e.g. "EPOCHS=1 BATCH=8" for a smoke run) go into every row, first.
      for pair in ${TESSERA_BENCH_OVERRIDES:-} $overrides; do
        key=${pair%%=*}
        if ablation_known_key "$pair"; then kept="$kept $pair"
        else echo "ablation: $key is not a job-file key of this build: left out of the baseline (rows setting it are skipped)" >&2; fi
      done
      baseline=${kept# }
      overrides=$baseline
      shown=$baseline
    else
      local unknown=""
      for pair in $overrides; do ablation_known_key "$pair" || unknown="$unknown ${pair%%=*}"; done
      if [[ -n $unknown ]]; then
        echo "ablation: row $name skipped: job-file key(s)$unknown unknown to this build (tessera-train --job refuses them)" >&2
        continue
      fi
      shown=$overrides
      overrides="$baseline $overrides"
    fi
    names+=("$name")
    ablation_job "$name" "$overrides" "$shown"
  done < "$rows_file"
  [[ ${#names[@]} -gt 0 ]] || { echo "ablation: no rows in $rows_file" >&2; exit 1; }

  for name in "${names[@]}"; do
    if ablation_run_row "$name"; then done_rows+=("$name")
    elif [[ $name == "${names[0]}" ]]; then echo "ablation: the baseline failed; stopping" >&2; exit 1; fi
  done
  stage_times
  if [[ -n $best_pending ]]; then
    ablation_report ablation/interim "${done_rows[@]}" > /dev/null
    local best
    best=$(cat ablation/interim/ablation-best.txt)
    if [[ -z $best ]]; then
      echo "ablation: no row improved on the baseline; row $best_pending skipped"
    else
      ablation_job "$best_pending" "$best" "$best"
      ablation_run_row "$best_pending" && done_rows+=("$best_pending")
    fi
  fi
  stage_times
  echo "== benchmark report (ablation: ${done_rows[*]})"
  ablation_report . "${done_rows[@]}"
  echo
  cat benchmark.md
}
