#!/bin/sh
# Publishes the built player into PUBLISH_DIR (the "frontend_dist" volume that nginx serves),
# then runs the command (the static server). Hashed files under assets/ are added and the older
# ones kept for PUBLISH_KEEP_DAYS, so pages already open can still load their chunks after an
# upgrade; index.html is replaced last, atomically, so nginx never serves a page whose assets
# are not there yet.
set -eu

dist="${DIST_DIR:-/app/dist}"
target="${PUBLISH_DIR:-}"
keep_days="${PUBLISH_KEEP_DAYS:-30}"

if [ -n "$target" ]; then
    if [ ! -f "$dist/index.html" ]; then
        echo "entrypoint: no build at $dist" >&2
        exit 1
    fi
    mkdir -p "$target/assets"
    if [ -d "$dist/assets" ]; then
        cp -R "$dist/assets/." "$target/assets/"
        touch "$target/assets"
        # Files of this build were just copied (fresh mtime); older builds' files age out.
        find "$target/assets" -type f -mtime +"$keep_days" -exec rm -f {} +
    fi
    for entry in "$dist"/* "$dist"/.[!.]*; do
        [ -e "$entry" ] || continue
        case "$(basename "$entry")" in
            index.html | assets) ;;
            *) cp -R "$entry" "$target/" ;;
        esac
    done
    cp "$dist/index.html" "$target/.index.html.new"
    mv -f "$target/.index.html.new" "$target/index.html"
    echo "entrypoint: published $dist to $target"
fi

exec "$@"
