# SPDX-License-Identifier: Apache-2.0
# Makefile - build, test, benchmark and install kakou.
#   make            build build/kakou, build/libkakou.so.$(SOVERSION), build/libkakou.a
#   make run        de-identify the bundled sample (testdata/sample) and say what happened
#   make check      unit tests (Check) and end-to-end tests on the real CLI
#   make check-asan the whole suite under ASan + UBSan (+ LSan)
#   make check-oom  allocation failures (fault injection)
#   make check-valgrind the CLI under valgrind's memcheck (tests/valgrind.sh)
#   make bench      benchmarks side by side with cp, gdcmanon, dcmodify, pydicom
#   make fuzz       run each libFuzzer harness in fuzz/ for FUZZ_SECONDS (clang)
#   make orthanc-plugin  build/kakou-orthanc.so (needs orthanc-dev; GPL-3.0+,
#                   plugins/orthanc/LICENSE.md); part of `make` when present
#   make install PREFIX=/usr/local DESTDIR=
#   make deps       install the Debian packages (apt-get, as root)
# V=1 shows every command.

# the version is written once, in include/kakou/version.h (its soname rule)
kk_version_of = $(shell sed -n 's/^\#define $1 \([0-9][0-9]*\)$$/\1/p' include/kakou/version.h)
SOVERSION  := $(call kk_version_of,KK_SOVERSION)
VERSION    := $(call kk_version_of,KK_VERSION_MAJOR).$(call kk_version_of,KK_VERSION_MINOR).$(call kk_version_of,KK_VERSION_PATCH)
PREFIX     ?= /usr/local
BUILD      ?= build
CC         ?= cc
CXX        ?= c++
PKG_CONFIG ?= pkg-config
PYTHON     ?= /usr/bin/python3
SHARED     ?= $(abspath ../shared)

ifndef V
QUIET_CC  = @echo '   CC     ' $@;
QUIET_CXX = @echo '   CXX    ' $@;
QUIET_LD  = @echo '   LD     ' $@;
QUIET_AR  = @echo '   AR     ' $@;
QUIET_GEN = @echo '   GEN    ' $@;
endif

# Libraries with a .pc file. DCMTK's dcmtk.pc names every DCMTK library
# and a private requirement (sndfile) Debian does not install, so its flags
# are spelled out: only the modules kakou uses, which also keeps process
# start-up short.
# OpenCV likewise: only libopencv-core-dev and libopencv-imgproc-dev are
# installed (opencv4.pc comes with the ~225-package libopencv-dev).
# The core (headers, keys, store) needs the first set; the pixel module
# (kakou-pixel.so: burned-in text, codecs) the second as well.
PKGS_CORE   := libsodium libgcrypt sqlite3 icu-uc zlib
PKGS_PIXEL  := tesseract lept libopenjp2 libjpeg libpng zbar
PKGS        := $(PKGS_CORE) $(PKGS_PIXEL)
# dcmtls (TLS for the gateway) links OpenSSL's libssl: Debian builds DCMTK with it
DCMTK_CORE  := -ldcmtls -ldcmnet -ldcmdata -loflog -lofstd
DCMTK_LIBS  := -ldcmjpls -ldcmjpeg -ldcmimage -ldcmimgle $(DCMTK_CORE)
OPENCV_CFLAGS := -I/usr/include/opencv4
OPENCV_LIBS := -lopencv_imgproc -lopencv_core
# Asked of pkg-config when first used, not when the Makefile is read: on a
# bare machine `make run` and `make check` install the packages first
# (scripts/deps.sh) and build in a second make, which asks after that.
# Each is computed once ($(eval) turns it into a simple variable).
lazy = $(eval $1 := $$(shell $(PKG_CONFIG) $2 2>/dev/null))$($1)
PKG_CFLAGS    = $(call lazy,PKG_CFLAGS,--cflags $(PKGS))
PKG_LIBS      = $(call lazy,PKG_LIBS,--libs $(PKGS))
PKG_LIBS_CORE = $(call lazy,PKG_LIBS_CORE,--libs $(PKGS_CORE))
CHECK_LIBS    = $(call lazy,CHECK_LIBS,--libs check)

ifdef SANITIZE
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

OPT        ?= -O2 -g
WARN       := -Wall -Wextra -Werror
CPPFLAGS_K  = -Iinclude -Ilib -I$(BUILD)/gen -D_GNU_SOURCE $(PKG_CFLAGS)
C_FLAGS     = -std=c11 $(WARN) $(OPT) -fPIC -fvisibility=hidden $(SAN_FLAGS)
ALL_CFLAGS  = $(C_FLAGS) $(CPPFLAGS_K) $(CFLAGS)
# tools/ see the public API only (no -Ilib), as any host does
TOOL_CFLAGS = $(C_FLAGS) -Iinclude -D_GNU_SOURCE $(PKG_CFLAGS) $(CFLAGS)
ALL_CXXFLAGS= -std=c++17 $(WARN) -Wno-deprecated-copy $(OPT) -fPIC -fvisibility=hidden $(SAN_FLAGS) $(CPPFLAGS_K) $(OPENCV_CFLAGS) $(CXXFLAGS)
# MeCab (lib/text/morph.c) has no .pc file: -lmecab, as mecab-config says
LIBS        = $(DCMTK_LIBS) $(OPENCV_LIBS) $(PKG_LIBS) -lmecab -lgomp -lpthread $(LDLIBS)
LIBS_CORE   = $(DCMTK_CORE) $(PKG_LIBS_CORE) -lmecab -ldl -lpthread $(LDLIBS)

LIB_C   := $(sort $(wildcard lib/*/*.c))
LIB_CXX := $(sort $(wildcard lib/*/*.cc))
GEN_C   := $(BUILD)/gen/builtin_profiles.c $(BUILD)/gen/iod_types.c $(BUILD)/gen/sr_concepts.c
LIB_OBJ := $(LIB_C:%.c=$(BUILD)/%.o) $(LIB_CXX:%.cc=$(BUILD)/%.o) $(GEN_C:%.c=%.o)
# Three ways to put the library together (lib/pixel/module.h says why):
#   libkakou.a      core + lib/pixel, called directly;
#   libkakou.so and the kakou command: core + the loader, which opens
#   kakou-pixel.so (core + lib/pixel + its entry table) when first needed.
# lib/pixel/plan.c belongs to the core: it reads the profile's pixel rules
# against a header, with neither OpenCV nor Tesseract, so a run with
# nothing to paint out never loads the module.
LOADER_OBJ := $(BUILD)/lib/pixel/loader.o
MODULE_OBJ := $(BUILD)/lib/pixel/module.o
PIXEL_CORE_OBJ := $(BUILD)/lib/pixel/plan.o
PIXEL_OBJ  := $(filter-out $(MODULE_OBJ) $(LOADER_OBJ) $(PIXEL_CORE_OBJ),$(filter $(BUILD)/lib/pixel/%,$(LIB_OBJ)))
CORE_OBJ   := $(filter-out $(LOADER_OBJ) $(MODULE_OBJ) $(PIXEL_OBJ),$(LIB_OBJ))
TOOL_C  := $(sort $(wildcard tools/*.c))
TOOL_OBJ:= $(TOOL_C:%.c=$(BUILD)/%.o)
UNIT_C  := $(sort $(wildcard tests/unit/check_*.c))
UNIT_BIN:= $(UNIT_C:tests/unit/%.c=$(BUILD)/tests/%)
TEST_SUPPORT := $(filter-out $(UNIT_C),$(wildcard tests/unit/*.c))
# C++ test programs the e2e scripts run (tests/tools/*.cc)
TEST_TOOLS  := $(patsubst tests/tools/%.cc,$(BUILD)/tests/%,$(sort $(wildcard tests/tools/*.cc)))
PROFILE_SRC := $(sort $(wildcard profiles/*.kkp))
# the fuzzing harnesses, replayed by make check (see "fuzzing" below)
FUZZ_ALL    := $(sort $(basename $(notdir $(wildcard fuzz/fuzz_*.c))))
FUZZ_REPLAY := $(FUZZ_ALL:%=$(BUILD)/fuzz/replay_%)

STATIC  := $(BUILD)/libkakou.a
SHLIB   := $(BUILD)/libkakou.so.$(SOVERSION)
MODULE  := $(BUILD)/kakou-pixel.so
CLI     := $(BUILD)/kakou

.PHONY: all regen-profiles orthanc-plugin deps deps-if-missing run check check-build check-unit check-e2e check-headers \
        check-asan check-oom check-mutants check-valgrind check-pixels-long bench fuzz fuzz-lib deps-fuzz \
        install clean
.DEFAULT_GOAL := all

# The Orthanc plugin (plugins/orthanc/, GPL-3.0-or-later because of the
# Orthanc SDK header): built with the rest when orthanc-dev is installed.
# It links libkakou.so (found next to it: rpath $ORIGIN) and exports only
# Orthanc's four entry points.
ORTHANC_SDK := $(wildcard /usr/include/orthanc/OrthancCPlugin.h)
PLUGIN      := $(BUILD)/kakou-orthanc.so

all: $(CLI) $(SHLIB) $(STATIC) $(MODULE) $(if $(ORTHANC_SDK),$(PLUGIN))

orthanc-plugin: $(PLUGIN)

$(PLUGIN): plugins/orthanc/kakou_orthanc.c plugins/orthanc/kakou-orthanc.map $(SHLIB) $(BUILD)/CFLAGS
	@[ -n "$(ORTHANC_SDK)" ] || { echo "orthanc-plugin: no /usr/include/orthanc/OrthancCPlugin.h (apt-get install orthanc-dev)" >&2; exit 1; }
	$(QUIET_LD)$(CC) -std=c11 $(WARN) $(OPT) -fPIC -shared $(SAN_FLAGS) -Iinclude -o $@ $< \
	  -Wl,--version-script=plugins/orthanc/kakou-orthanc.map -Wl,-rpath,'$$ORIGIN:$$ORIGIN/..' \
	  $(SHLIB) -lsodium -lpthread

deps:
	@scripts/deps.sh

deps-if-missing:
	@scripts/deps.sh --check || scripts/deps.sh

# A stamp that changes when the flags do, so objects follow.
$(BUILD)/CFLAGS: FORCE
	@$(PKG_CONFIG) --exists $(PKGS) 2>/dev/null || { echo "kakou: the Debian packages to build with are missing: run 'make deps' as root (or 'make run', which does it)" >&2; exit 1; }
	@mkdir -p $(@D)
	@echo '$(ALL_CFLAGS) $(ALL_CXXFLAGS) $(LIBS)' | cmp -s - $@ || echo '$(ALL_CFLAGS) $(ALL_CXXFLAGS) $(LIBS)' > $@
FORCE:

# Another stamp for the list of library objects, so a deleted source
# leaves the libraries too.
$(BUILD)/OBJECTS: FORCE
	@mkdir -p $(@D)
	@echo '$(LIB_OBJ)' | cmp -s - $@ || echo '$(LIB_OBJ)' > $@

# profiles/dicom-basic.kkp is generated from profiles/reference/ and
# tracked, so `make clean` keeps it; tests/e2e/t0047-dicom-basic-generated.sh
# makes it again and compares. After changing the tables or the script:
# `make regen-profiles`.
DICOM_BASIC_GEN := LC_ALL=C awk -F'\t' -f scripts/gen_dicom_basic.awk \
                   profiles/reference/ps315_annex_e.tsv profiles/reference/safe_private.tsv

regen-profiles:
	$(QUIET_GEN)$(DICOM_BASIC_GEN) > profiles/dicom-basic.kkp.tmp && \
	  mv profiles/dicom-basic.kkp.tmp profiles/dicom-basic.kkp

$(BUILD)/gen/builtin_profiles.c: scripts/embed.sh $(PROFILE_SRC)
	@mkdir -p $(@D)
	$(QUIET_GEN)scripts/embed.sh $(PROFILE_SRC) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/iod_types.c: scripts/gen_iod_types.sh profiles/reference/iod_types.tsv
	@mkdir -p $(@D)
	$(QUIET_GEN)scripts/gen_iod_types.sh profiles/reference/iod_types.tsv > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/sr_concepts.c: scripts/gen_sr_concepts.sh profiles/reference/sr_clean_concepts.tsv
	@mkdir -p $(@D)
	$(QUIET_GEN)scripts/gen_sr_concepts.sh profiles/reference/sr_clean_concepts.tsv > $@.tmp && mv $@.tmp $@

# DCMTK's data dictionary, compiled in (lib/dict/dict.c, plain C; lib/dicom/
# dict_dcmtk.cc hands it to DCMTK): DCMTK itself loads its text files
# here, once, and the table is what it loaded (scripts/gen_dcm_dict.cc). The generator writes dcm_dict.d, which names
# those files, so a new dictionary regenerates the table.
$(BUILD)/gen/gen_dcm_dict: scripts/gen_dcm_dict.cc $(BUILD)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_LD)$(CXX) -std=c++17 $(WARN) -Wno-deprecated-copy -O1 -MMD -MP -o $@ $< $(DCMTK_CORE)

$(BUILD)/gen/dcm_dict.inc: $(BUILD)/gen/gen_dcm_dict
	$(QUIET_GEN)$(BUILD)/gen/gen_dcm_dict $@ $(BUILD)/gen/dcm_dict.d > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/dict/dict.o: $(BUILD)/gen/dcm_dict.inc

$(BUILD)/%.o: %.c $(BUILD)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tools/%.o: tools/%.c $(BUILD)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(TOOL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.cc $(BUILD)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_CXX)$(CXX) $(ALL_CXXFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c $(BUILD)/CFLAGS
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -w -c -o $@ $<

$(STATIC): $(CORE_OBJ) $(PIXEL_OBJ) $(BUILD)/OBJECTS
	@rm -f $@
	$(QUIET_AR)ar rcs $@ $(CORE_OBJ) $(PIXEL_OBJ)

# -z nodelete, here and on the module: DCMTK's dictionary may point into
# their compiled-in table (lib/dicom/dict_dcmtk.cc), so dlclose() must
# not unmap them.
$(SHLIB): $(CORE_OBJ) $(LOADER_OBJ) $(BUILD)/OBJECTS
	$(QUIET_LD)$(CXX) -shared -Wl,-soname,libkakou.so.$(SOVERSION) -Wl,-z,nodelete $(SAN_FLAGS) -o $@ $(CORE_OBJ) $(LOADER_OBJ) $(LIBS_CORE)
	@ln -sf libkakou.so.$(SOVERSION) $(BUILD)/libkakou.so

# The module binds its own copy of the core to itself (-Bsymbolic) and
# exports nothing but its entry table. The core comes from libkakou.a, an
# archive, so the module takes only the objects lib/pixel calls (dicom,
# dict, charset, the profile's lookups, the plan): since no call runs from
# lib/pixel up to lib/deid, that leaves out the engine, the store, the
# keys and the gateway (t0045 checks).
$(MODULE): $(PIXEL_OBJ) $(MODULE_OBJ) $(STATIC) lib/pixel/module.map $(BUILD)/OBJECTS
	$(QUIET_LD)$(CXX) -shared -Wl,-Bsymbolic -Wl,--version-script=lib/pixel/module.map -Wl,-z,nodelete $(SAN_FLAGS) \
	  -o $@ $(MODULE_OBJ) $(PIXEL_OBJ) $(STATIC) $(LIBS)

# where an installed kakou looks for its module (loader.c says where else)
$(LOADER_OBJ): CFLAGS += -DKK_PIXEL_MODULE_DIR='"$(PREFIX)/lib/kakou"'

$(CLI): $(TOOL_OBJ) $(CORE_OBJ) $(LOADER_OBJ) $(MODULE)
	$(QUIET_LD)$(CXX) $(SAN_FLAGS) -o $@ $(TOOL_OBJ) $(CORE_OBJ) $(LOADER_OBJ) $(LIBS_CORE)

$(BUILD)/tests/%: tests/unit/%.c $(TEST_SUPPORT) $(STATIC) $(BUILD)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_LD)$(CC) $(ALL_CFLAGS) -DTESTDATA='"$(abspath testdata)"' -DREFDATA='"$(abspath profiles/reference)"' \
	  -o $@ $< $(TEST_SUPPORT) $(STATIC) $(CHECK_LIBS) $(LIBS) -lstdc++ -lm

$(BUILD)/tests/%: tests/tools/%.cc $(STATIC) $(BUILD)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_LD)$(CXX) $(ALL_CXXFLAGS) -o $@ $< $(STATIC) $(LIBS) -lm

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# run, check and bench install what is missing first, then build in a
# second make, whose flags come from the packages just installed.
run: deps-if-missing
	@$(MAKE) --no-print-directory all
	@scripts/run-sample.sh $(CLI)

check: deps-if-missing
	@$(MAKE) --no-print-directory check-build
	@KAKOU=$(abspath $(CLI)) BUILD=$(abspath $(BUILD)) SHARED=$(SHARED) PYTHON=$(PYTHON) \
	  tests/run.sh $(UNIT_BIN)

check-build: all $(UNIT_BIN) $(TEST_TOOLS) $(FUZZ_REPLAY)

check-unit: all $(UNIT_BIN)
	@KAKOU=$(abspath $(CLI)) BUILD=$(abspath $(BUILD)) SHARED=$(SHARED) PYTHON=$(PYTHON) \
	  tests/run.sh --unit-only $(UNIT_BIN)

check-e2e: all $(UNIT_BIN) $(TEST_TOOLS)
	@KAKOU=$(abspath $(CLI)) BUILD=$(abspath $(BUILD)) SHARED=$(SHARED) PYTHON=$(PYTHON) \
	  tests/run.sh --e2e-only

# Semantic mutations applied to a scratch copy, each caught by its tests
# (tests/mutants/mutants.txt); builds first so the copy reuses the objects.
check-mutants: all
	@SHARED=$(SHARED) PYTHON=$(PYTHON) MUTANT_CHECKED=$(MUTANT_CHECKED) tests/mutants/run.sh

check-headers:
	@for h in include/kakou/*.h; do \
	  echo "#include \"$$h\"" | $(CC) -std=c11 -pedantic -Wall -Wextra -Werror -Iinclude -x c -fsyntax-only - || exit 1; \
	  echo "#include \"$$h\"" | $(CXX) -std=c++17 -pedantic -Wall -Wextra -Werror -Iinclude -x c++ -fsyntax-only - || exit 1; \
	done; echo "check-headers: ok"

# tests/lsan.supp: leaks inside Tesseract, never kakou's own
# (an instrumented run is several times slower: a run is called a hang
# after 300 s, not 60, and Check's 4 s per test become 16; -O2, as the
# pixel search at -O1 took most of the suite's time)
check-asan: deps-if-missing
	@LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
	  KK_TIMEOUT=$${KK_TIMEOUT:-300} CK_TIMEOUT_MULTIPLIER=$${CK_TIMEOUT_MULTIPLIER:-4} \
	  $(MAKE) --no-print-directory BUILD=build/asan SANITIZE=address,undefined OPT='-O2 -g' check

# allocation failures: a build whose library fails its Nth allocation on
# request (KK_FAIL_ALLOC=N, lib/core/ctx.c), for check_profile_oom
check-oom: deps-if-missing
	@$(MAKE) --no-print-directory BUILD=build/oom CFLAGS=-DKK_FAULT_INJECTION \
	  build/oom/tests/check_profile_oom
	@build/oom/tests/check_profile_oom

# burned-in text on more synthetic sets than make check's (seeds 4 and 7):
# each seed is a new set of images (PIXEL_SEEDS to choose), ~30 s a seed
PIXEL_SEEDS ?= 1 2 3 4 5 6 7 8 9 10 11 12
check-pixels-long: all build/tests/check_textfind
	@fails=0; for s in $(PIXEL_SEEDS); do \
	  echo "check-pixels-long: seed $$s"; \
	  KK_BURNED_SEED=$$s build/tests/check_textfind || fails=$$((fails + 1)); \
	done; echo "check-pixels-long: $$fails of the seeds failed"; [ $$fails = 0 ]

# the CLI under valgrind's memcheck on the corpus, the planted set and
# the hostile files (tests/valgrind.sh); any report fails. tests/valgrind.supp:
# third-party code only.
check-valgrind: deps-if-missing
	@$(MAKE) --no-print-directory all
	@KAKOU=$(abspath $(CLI)) SHARED=$(SHARED) PYTHON=$(PYTHON) TESTS=$(abspath tests) \
	  tests/valgrind.sh

bench: deps-if-missing
	@$(MAKE) --no-print-directory all
	@KAKOU=$(abspath $(CLI)) SHARED=$(SHARED) PYTHON=$(PYTHON) bench/run.sh

# --- fuzzing (fuzz/README.md) -----------------------------------------
# Each fuzz/fuzz_<parser>.c is a libFuzzer harness. `make fuzz` builds the
# library again with clang, libFuzzer's coverage and the sanitizers (in
# build/fuzz, apart from every other build), then runs each harness for
# FUZZ_SECONDS, seeded from fuzz/corpus/<harness>/ and fuzz/regress/
# <harness>/; new inputs go to build/fuzz/corpus/<harness>/ and crashers to
# build/fuzz/artifacts/<harness>/. FUZZ=fuzz_deid runs one harness.
# `make check` links each harness with fuzz/replay_main.c instead, with the
# normal compiler (and the sanitizers in check-asan), and replays the
# committed corpus and every past crasher (tests/e2e/t0600-fuzz-replay.sh).
FUZZ_SECONDS ?= 600
FUZZ_CC      ?= clang
FUZZ_CXX     ?= clang++
FUZZ_FLAGS   ?= -rss_limit_mb=2048 -timeout=30
FUZZ_DIR     := build/fuzz
FUZZ         ?= $(FUZZ_ALL)
FUZZ_SAN     := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# extra read-only seeds: the shared DICOM corpus for the de-identifier
FUZZ_SEEDS_fuzz_deid := $(wildcard $(SHARED)/corpus/image $(SHARED)/corpus/charset \
                          $(SHARED)/corpus/sr_rt $(SHARED)/corpus/private $(SHARED)/corpus/malformed)
FUZZ_MAXLEN_fuzz_deid := -max_len=262144

$(BUILD)/fuzz/replay_%: fuzz/%.c fuzz/replay_main.c $(STATIC) $(BUILD)/CFLAGS
	@mkdir -p $(@D)
	$(QUIET_LD)$(CC) $(ALL_CFLAGS) -o $@ $< fuzz/replay_main.c $(STATIC) $(LIBS) -lstdc++ -lm

fuzz-lib:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_DIR) CC=$(FUZZ_CC) CXX=$(FUZZ_CXX) \
	  SANITIZE=address,undefined OPT='-O1 -g' CFLAGS='-fsanitize=fuzzer-no-link -Wno-error' \
	  CXXFLAGS='-fsanitize=fuzzer-no-link -Wno-error' $(FUZZ_DIR)/libkakou.a

$(FUZZ_DIR)/bin/%: fuzz/%.c fuzz-lib
	@mkdir -p $(@D)
	$(QUIET_LD)$(FUZZ_CXX) -x c -std=c11 $(WARN) -O1 -g $(FUZZ_SAN) -Iinclude -Ilib -D_GNU_SOURCE \
	  -c -o $@.o $< && $(FUZZ_CXX) $(FUZZ_SAN) -o $@ $@.o $(FUZZ_DIR)/libkakou.a $(LIBS)

deps-fuzz:
	@scripts/deps.sh --fuzz --check || scripts/deps.sh --fuzz

fuzz: deps-fuzz $(FUZZ:%=$(FUZZ_DIR)/bin/%)
	@for h in $(FUZZ); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$h $(FUZZ_DIR)/artifacts/$$h fuzz/regress/$$h; \
	  echo "fuzz: $$h for $(FUZZ_SECONDS) s"; \
	  LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) \
	  $(FUZZ_DIR)/bin/$$h -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
	    $$(case $$h in fuzz_deid) echo '$(FUZZ_MAXLEN_fuzz_deid)';; esac) \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/$$h/ $(FUZZ_DIR)/corpus/$$h \
	    fuzz/corpus/$$h fuzz/regress/$$h \
	    $$(case $$h in fuzz_deid) echo '$(FUZZ_SEEDS_fuzz_deid)';; esac) \
	    2>$(FUZZ_DIR)/$$h.log || { tail -40 $(FUZZ_DIR)/$$h.log; exit 1; }; \
	  tail -1 $(FUZZ_DIR)/$$h.log; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/kakou \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	  $(DESTDIR)$(PREFIX)/share/kakou/profiles $(DESTDIR)$(PREFIX)/lib/kakou
	install -m 0755 $(CLI) $(DESTDIR)$(PREFIX)/bin/kakou
	install -m 0755 $(MODULE) $(DESTDIR)$(PREFIX)/lib/kakou/kakou-pixel.so
	$(if $(ORTHANC_SDK),install -m 0755 $(PLUGIN) $(DESTDIR)$(PREFIX)/lib/kakou/kakou-orthanc.so)
	install -m 0644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/libkakou.a
	install -m 0755 $(SHLIB) $(DESTDIR)$(PREFIX)/lib/libkakou.so.$(VERSION)
	ln -sf libkakou.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libkakou.so.$(SOVERSION)
	ln -sf libkakou.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libkakou.so
	install -m 0644 include/kakou/*.h $(DESTDIR)$(PREFIX)/include/kakou/
	install -m 0644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(wildcard man/*.5) $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 $(PROFILE_SRC) $(DESTDIR)$(PREFIX)/share/kakou/profiles/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS@|$(DCMTK_LIBS) $(OPENCV_LIBS) $(PKG_LIBS) -lgomp -lpthread -lstdc++|' \
	  kakou.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/kakou.pc

clean:
	rm -rf build
