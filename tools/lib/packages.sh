# Sourced by tools/quickstart and tools/check: the Debian 12 packages spate needs,
# and a function that installs whichever of them are missing.

# Building spate (release and debug).
SPATE_BUILD_PACKAGES=(
    g++ meson ninja-build pkg-config
    liburing-dev libssl-dev libexpected-dev libcli11-dev libfmt-dev
    libc-ares-dev libcurl4-openssl-dev
    # HTTPS trackers are verified against the system's CA bundle.
    ca-certificates
    libgtest-dev libgmock-dev libbenchmark-dev
)
# Running the fuzzers: clang with libFuzzer and the sanitizer runtimes.
SPATE_FUZZ_PACKAGES=(clang libclang-rt-14-dev)
# Real third-party programs the interop tests compare against.
SPATE_INTEROP_PACKAGES=(python3 python3-libtorrent mktorrent transmission-cli opentracker aria2)

# ensure_packages NAME...: apt-get installs the packages not yet installed,
# as root or through sudo. Prints nothing when all are present.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0

    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "spate: need root or sudo to install: ${missing[*]}" >&2
            return 1
        fi
    fi
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
