# Shared by the Tessera sbatch scripts (sourced, not run). Loads the site's settings and modules,
# finds the binaries and the job file, loads the job file's settings, and runs a stage so that it
# stops cleanly and requeues itself before the time limit.
# The site's settings (Slurm/site.env, or $TESSERA_SITE): the modules to load.
site=${TESSERA_SITE:-${TESSERA_SCRIPTS:-${SLURM_SUBMIT_DIR:-.}/Slurm}/site.env}
if [[ -r "$site" ]]; then
  # shellcheck source=site.env
  source "$site"
fi
if [[ -n "${SITE_MODULES:-}" ]]; then
  # shellcheck disable=SC2086 # a list of modules
  module load $SITE_MODULES || { echo "tessera: module load $SITE_MODULES failed (SITE_MODULES in $site)" >&2; exit 1; }
fi
: "${TESSERA_JOB:?TESSERA_JOB is not set: submit with Slurm/submit JOBFILE, or sbatch --export=ALL,TESSERA_JOB=/abs/path/job.env …}"
[[ -r "$TESSERA_JOB" ]] || { echo "tessera: job file $TESSERA_JOB is not readable from $(hostname)" >&2; exit 1; }
# The binaries: $TESSERA_BIN (set by Slurm/submit), else tessera-* on PATH.
if [[ -n "${TESSERA_BIN:-}" ]]; then
  [[ -x "$TESSERA_BIN/tessera-tile" ]] || { echo "tessera: no tessera-tile in TESSERA_BIN=$TESSERA_BIN (build with: bash Jobs/build)" >&2; exit 1; }
  PATH="$TESSERA_BIN:$PATH"
fi
command -v tessera-tile >/dev/null || { echo "tessera: tessera-* not found; set TESSERA_BIN or PATH (bash Jobs/build)" >&2; exit 1; }
# shellcheck disable=SC1090
source "$TESSERA_JOB"
# shellcheck source=failed-slides.sh
source "${TESSERA_SCRIPTS:-${SLURM_SUBMIT_DIR:-.}/Slurm}/failed-slides.sh"
# mpirun refuses root without these (containers, CI); harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "tessera: job ${NAME:-?} ($TESSERA_JOB), Slurm job ${SLURM_JOB_ID:-none}${SLURM_ARRAY_TASK_ID:+ task $SLURM_ARRAY_TASK_ID}, on $(hostname), in $(pwd)"

# Runs a stage's program (its arguments) in the background so that Slurm's warning before the time
# limit (--signal=B:USR1@SECONDS, sent to this batch shell only) is forwarded to it at once: the
# program (srun and mpirun forward it to every rank) stops at its next safe point and exits 75.
# Returns the program's status; sets tessera_stop_requested=1 when the warning came.
tessera_stop_requested=0
tessera_run() {
  local pid rc
  trap 'tessera_stop_requested=1; echo "tessera: SIGUSR1 (time limit near): asking the stage to stop at its next safe point"; kill -USR1 "$pid" 2>/dev/null || true' USR1
  "$@" &
  pid=$!
  while true; do
    rc=0
    wait "$pid" || rc=$?
    # wait returns early (status > 128) when the trap ran; the program is still going.
    if ((rc > 128)) && kill -0 "$pid" 2>/dev/null; then continue; fi
    break
  done
  trap - USR1
  return "$rc"
}

# After tessera_run: when the stage stopped on the warning (status 75, or killed by the signal
# before it could handle it), requeues this job (array task) to resume, and exits. Up to
# SITE_MAX_REQUEUES times; then it fails, and a resubmission resumes it.
tessera_requeue_if_stopped() {
  local rc=$1
  ((tessera_stop_requested)) || return 0
  [[ $rc -eq 75 || $rc -eq 138 ]] || return 0
  local id=${SLURM_JOB_ID:-} restarts=${SLURM_RESTART_COUNT:-0}
  # An array task by its own name: the array's id alone would requeue every task.
  [[ -n "${SLURM_ARRAY_JOB_ID:-}" && -n "${SLURM_ARRAY_TASK_ID:-}" ]] && id="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
  if ((restarts >= ${SITE_MAX_REQUEUES:-20})); then
    echo "tessera: stopped before the time limit after $restarts requeues (SITE_MAX_REQUEUES); resubmit to resume" >&2
    exit 1
  fi
  echo "tessera: stopped before the time limit; requeueing job $id to resume (restart $((restarts + 1)))"
  scontrol requeue "$id" || { echo "tessera: scontrol requeue $id failed; resubmit to resume" >&2; exit 1; }
  exit 0
}
