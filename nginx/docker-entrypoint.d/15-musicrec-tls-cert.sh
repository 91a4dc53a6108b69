#!/bin/sh
# Makes a self-signed certificate on first start when none is there, so HTTPS works at once.
# A real certificate (see docs/deploy.md) placed at the same paths is used as it is and is
# never overwritten. Run by the nginx image's /docker-entrypoint.sh before the config is
# rendered; also usable alone: NGINX_SSL_CERT=... NGINX_SSL_KEY=... sh 15-musicrec-tls-cert.sh
set -eu

cert="${NGINX_SSL_CERT:-/etc/nginx/certs/fullchain.pem}"
key="${NGINX_SSL_KEY:-/etc/nginx/certs/privkey.pem}"
name="${NGINX_SERVER_NAME:-localhost}"
days="${NGINX_SELF_SIGNED_DAYS:-825}"

log() { echo "$0: $*" >&2; }

if [ -s "$cert" ] && [ -s "$key" ]; then
    log "using the certificate at $cert"
    exit 0
fi
if [ -e "$cert" ] || [ -e "$key" ]; then
    log "only one of $cert and $key is there; refusing to overwrite it (remove it or add the other)"
    exit 1
fi
if ! command -v openssl >/dev/null 2>&1; then
    log "openssl is missing: cannot make a self-signed certificate"
    exit 1
fi

mkdir -p "$(dirname "$cert")" "$(dirname "$key")"
san="DNS:$name,DNS:localhost,IP:127.0.0.1,IP:::1"
case "$name" in
    localhost) san="DNS:localhost,IP:127.0.0.1,IP:::1" ;;
    *[!0-9.]*) ;;
    *) san="IP:$name,DNS:localhost,IP:127.0.0.1,IP:::1" ;;
esac

tmp_key="$key.tmp.$$"
tmp_cert="$cert.tmp.$$"
trap 'rm -f "$tmp_key" "$tmp_cert"' EXIT
(
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
        -days "$days" -subj "/CN=$name" \
        -addext "subjectAltName=$san" \
        -addext "basicConstraints=critical,CA:FALSE" \
        -addext "keyUsage=critical,digitalSignature" \
        -addext "extendedKeyUsage=serverAuth" \
        -keyout "$tmp_key" -out "$tmp_cert" 2>/dev/null
)
chmod 600 "$tmp_key"
chmod 644 "$tmp_cert"
mv "$tmp_key" "$key"
mv "$tmp_cert" "$cert"
log "made a self-signed certificate for $name ($san), valid $days days: browsers will warn until a real one replaces it"
