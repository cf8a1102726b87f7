#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/deps.sh - install (or, with --check, look for) the Debian 12
# packages kakou needs to build, test and benchmark.
#   scripts/deps.sh          install what is missing (apt-get, as root)
#   scripts/deps.sh --check  exit 0 when everything is present, 1 otherwise
#   scripts/deps.sh --fuzz   also clang and its libFuzzer runtime (make fuzz)
#   scripts/deps.sh --ci     also mmdebstrap, which .ci/run builds a bare
#                            Debian 12 root with
# A bare Debian 12 root (mmdebstrap --variant=apt, plus make and git) has
# only the Essential packages; everything any build step, test, script or
# benchmark calls beyond those is in PACKAGES and checked by present().
set -u

FUZZ_PACKAGES="clang libclang-rt-14-dev"
CI_PACKAGES="mmdebstrap"

PACKAGES="build-essential pkg-config
 libdcmtk-dev dcmtk libsodium-dev libgcrypt20-dev libsqlite3-dev sqlite3 check zlib1g-dev
 libopenjp2-7-dev libcharls-dev libjpeg62-turbo-dev libpng-dev
 libtesseract-dev tesseract-ocr-eng tesseract-ocr-jpn libzbar-dev zbar-tools zint
 libicu-dev libmecab-dev mecab-ipadic-utf8
 libopencv-core-dev libopencv-imgproc-dev
 libgdcm-tools dicom3tools python3-pydicom python3-numpy python3-pil
 python3-opencv opencv-data
 fonts-dejavu-core fonts-ipafont-gothic
 mawk procps mount iproute2 strace valgrind openssl time
 orthanc orthanc-dev curl"

present() {
    command -v cc >/dev/null 2>&1 || return 1
    command -v c++ >/dev/null 2>&1 || return 1
    command -v pkg-config >/dev/null 2>&1 || return 1
    pkg-config --exists libsodium libgcrypt sqlite3 check libopenjp2 charls libjpeg libpng tesseract lept icu-uc zlib zbar || return 1
    [ -f /usr/include/mecab.h ] || return 1
    [ -f /var/lib/mecab/dic/ipadic-utf8/sys.dic ] || return 1
    [ -f /usr/share/mecab/dic/ipadic/Noun.name.csv ] || return 1
    [ -f /usr/include/dcmtk/dcmdata/dctk.h ] || return 1
    [ -f /usr/include/opencv4/opencv2/imgproc.hpp ] || return 1
    [ -d /usr/share/tesseract-ocr/5/tessdata ] || return 1
    [ -f /usr/share/tesseract-ocr/5/tessdata/jpn.traineddata ] || return 1
    # tests and benchmarks: the DICOM tools, pgrep (procps), mount (t0670
    # and the read-only store test), ip (iproute2: t0974 brings up lo in its
    # network namespace), strace (t0700), valgrind (make
    # check-valgrind), openssl (bench: gdcmanon -e's certificate), /usr/bin/time
    # (bench/deface.sh)
    # zint draws the barcodes t0426 burns into images, zbarimg reads them back
    for t in dcmdump gdcmdump gdcmanon dciodvfy dcmodify awk pgrep mount ip strace valgrind openssl zint zbarimg; do
        command -v "$t" >/dev/null 2>&1 || return 1
    done
    [ -x /usr/bin/time ] || return 1
    /usr/bin/python3 -c 'import pydicom, numpy, PIL' >/dev/null 2>&1 || return 1
    # the defacing tests (t094x) render skin surfaces and run OpenCV's face cascades
    /usr/bin/python3 -c 'import cv2' >/dev/null 2>&1 || return 1
    [ -f /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml ] || return 1
    [ -f /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] || return 1
    [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || return 1
    # the Orthanc plugin's build and tests (t0974), and bench/network.sh
    [ -f /usr/include/orthanc/OrthancCPlugin.h ] || return 1
    [ -x /usr/sbin/Orthanc ] || return 1
    command -v curl >/dev/null 2>&1 || return 1
    if [ -n "${WANT_FUZZ:-}" ]; then
        command -v clang >/dev/null 2>&1 || return 1
        ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || return 1
    fi
    if [ -n "${WANT_CI:-}" ]; then
        command -v mmdebstrap >/dev/null 2>&1 || return 1
    fi
    return 0
}

while :; do
    case "${1:-}" in
    --fuzz) WANT_FUZZ=1; PACKAGES="$PACKAGES $FUZZ_PACKAGES"; shift ;;
    --ci) WANT_CI=1; PACKAGES="$PACKAGES $CI_PACKAGES"; shift ;;
    *) break ;;
    esac
done

if [ "${1:-}" = "--check" ]; then
    present
    exit $?
fi

if present; then
    echo "deps: all packages present"
    exit 0
fi

# shellcheck disable=SC2086
set -- $PACKAGES
if [ "$(id -u)" != 0 ]; then
    echo "deps: some packages are missing; as root, run:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends $*" >&2
    exit 1
fi
echo "deps: installing Debian packages (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }
apt-get install -y -q --no-install-recommends "$@" >/dev/null ||
    { echo "deps: apt-get install failed" >&2; exit 1; }
# The orthanc package starts a system Orthanc (4242/8042, /etc/init.d/orthanc)
# unless policy-rc.d forbids it. The tests start their own Orthanc on
# ports of their own: stop the system one and keep it from starting at boot.
if [ -x /etc/init.d/orthanc ]; then
    /etc/init.d/orthanc stop >/dev/null 2>&1 || true
    update-rc.d orthanc disable >/dev/null 2>&1 || true
fi
present || { echo "deps: packages installed but something is still missing" >&2; exit 1; }
echo "deps: done"
