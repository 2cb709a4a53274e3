# Shared by the Tessera sbatch scripts (sourced, not run). Finds the binaries and the job file, and
# loads the job file's settings.
: "${TESSERA_JOB:?TESSERA_JOB is not set: submit with Slurm/submit JOBFILE, or sbatch --export=ALL,TESSERA_JOB=/abs/path/job.env …}"
[[ -r "$TESSERA_JOB" ]] || { echo "tessera: job file $TESSERA_JOB is not readable from $(hostname)" >&2; exit 1; }
# The binaries: $TESSERA_BIN (set by Slurm/submit), else tessera-* on PATH.
if [[ -n "${TESSERA_BIN:-}" ]]; then
  [[ -x "$TESSERA_BIN/tessera-tile" ]] || { echo "tessera: no tessera-tile in TESSERA_BIN=$TESSERA_BIN (build with: swift build -c release)" >&2; exit 1; }
  PATH="$TESSERA_BIN:$PATH"
fi
command -v tessera-tile >/dev/null || { echo "tessera: tessera-* not found; set TESSERA_BIN or PATH (swift build -c release)" >&2; exit 1; }
# shellcheck disable=SC1090
source "$TESSERA_JOB"
# shellcheck source=failed-slides.sh
source "${TESSERA_SCRIPTS:-${SLURM_SUBMIT_DIR:-.}/Slurm}/failed-slides.sh"
# mpirun refuses root without these (containers, CI); harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "tessera: job ${NAME:-?} ($TESSERA_JOB), Slurm job ${SLURM_JOB_ID:-none}${SLURM_ARRAY_TASK_ID:+ task $SLURM_ARRAY_TASK_ID}, on $(hostname), in $(pwd)"
