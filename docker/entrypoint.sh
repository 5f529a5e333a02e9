#!/bin/sh
# The image's entry point: one image, several roles (docs/deploy.md).
#
#   web        the portal under gunicorn (portal/gunicorn_conf.py) on $VISIONKIT_BIND;
#              VISIONKIT_MIGRATE=1 migrates first (one replica only: see "migrate")
#   worker     the django-q2 job worker (manage.py qcluster)
#   migrate    apply the database migrations, check the file storage (manage.py
#              check_storage) and exit: a one-off job before a rollout
#   manage     any manage.py command:  manage createsuperuser, manage promote ...
#   visionkit  the command line:       visionkit predict /data --out /data/out
#   anything else is handed to `visionkit`, so `docker run IMAGE synth --out /data` works.
#
# Static files are collected when the image is built. Each role ends in `exec`, so the
# server itself is PID 1's process and gets the container's SIGTERM.
set -eu

cd "$(dirname "$0")/.."

# gunicorn's workers share their Prometheus series through files here (prometheus-client's
# multiprocess mode); emptied at each start so a previous container's values are gone.
prepare_metrics() {
    if [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
        PROMETHEUS_MULTIPROC_DIR="${TMPDIR:-/tmp}/visionkit-prometheus"
        export PROMETHEUS_MULTIPROC_DIR
    fi
    rm -rf "$PROMETHEUS_MULTIPROC_DIR"
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
}

migrate_if_asked() {
    case "${VISIONKIT_MIGRATE:-0}" in
        1 | true | yes | on)
            python manage.py migrate --no-input
            # One machine (compose): a missing Blob container is made here.
            python manage.py check_storage --create
            ;;
        0 | false | no | off | "") ;;
        *)
            echo "entrypoint: VISIONKIT_MIGRATE=${VISIONKIT_MIGRATE} is invalid: give 1 or 0" >&2
            exit 2
            ;;
    esac
}

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
    web)
        migrate_if_asked
        prepare_metrics
        exec python -m gunicorn -c portal/gunicorn_conf.py "$@" portal.wsgi:application
        ;;
    worker)
        prepare_metrics
        exec python manage.py qcluster "$@"
        ;;
    migrate)
        python manage.py migrate --no-input "$@"
        # The rollout stops here if the file storage is missing or refuses writes.
        exec python manage.py check_storage
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    visionkit)
        exec visionkit "$@"
        ;;
    *)
        exec visionkit "$role" "$@"
        ;;
esac
