# Shared by the sbatch scripts and Jobs/run-local (sourced, not run): "done, but some slides failed"
# made visible where users and admins look, without stopping the pipeline.

# Number of failed-slide records in the failure CSV files given (quoted fields may span lines).
tessera_count_failed_slides() {
  local files=()
  local f
  for f in "$@"; do [[ -f "$f" ]] && files+=("$f"); done
  ((${#files[@]})) || { echo 0; return; }
  awk 'FNR == 1 { q = 0; next } { q += gsub(/"/, "&") } q % 2 == 0 { n++; q = 0 } END { print n + 0 }' "${files[@]}"
}

# One summary line for a finished pipeline: "" when nothing failed.
tessera_failed_slides_summary() {
  local store=$1 predictions=$2
  local tiled predicted
  tiled=$(tessera_count_failed_slides "$store"/failures/*.csv)
  predicted=$(tessera_count_failed_slides "$predictions/failures.csv")
  ((tiled + predicted > 0)) || return 0
  echo "failed slides: $tiled in tiling (see $store/failures/), $predicted in prediction (see $predictions/failures.csv)"
}

# Inside a Slurm job: logs the message and sets it as the job's comment, which `squeue -O comment`,
# `scontrol show job` and (where accounting stores comments) `sacct -o comment` show, so a job that
# ends COMPLETED with skipped slides is still flagged.
tessera_flag_job() {
  local message="tessera: $1"
  echo "$message"
  # An array task is named ARRAY_TASK: its own SLURM_JOB_ID equals the array's id for task 0, and
  # updating that would set the comment of every task of the array.
  local id=${SLURM_JOB_ID:-}
  [[ -n "${SLURM_ARRAY_JOB_ID:-}" && -n "${SLURM_ARRAY_TASK_ID:-}" ]] && id="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
  if [[ -n "$id" ]] && command -v scontrol >/dev/null; then
    scontrol update JobId="$id" Comment="$message" || echo "tessera: could not set the job's comment" >&2
  fi
}
