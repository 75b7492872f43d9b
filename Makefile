# heapsnap - a plain Makefile.  `make` builds the shim and the CLI into $(BUILD)/;
# `make check` runs every test; `make demo` profiles a bundled program.
CC      ?= gcc
CXX     ?= g++
CFLAGS  ?= -O2 -g
# glibc's checked string and memory functions, as Debian's hardened builds
# (dpkg-buildflags puts it here: debian/rules)
CPPFLAGS ?= -D_FORTIFY_SOURCE=2
BUILD   ?= build
PREFIX  ?= /usr/local
# The one version of the CLI, the shim and the Python package is the file
# VERSION (python/setup.cfg and debian/changelog repeat it; test_version.sh
# checks that all of them agree); $(BUILD)/gen/version.h carries it to the C.
FUZZ_SECONDS ?= 20

WARN    := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
# The shim is built with link-time optimisation, and the hot path at -O3
# as well: a recording crosses hooks, pending, table, traces and the
# unwinders, and LTO inlines across them (docs/performance-hotpath.md has
# the figures).  The leak check does not
# depend on what LTO inlines: it scans the calling thread's stack from
# where the program called into the shim (shim/leak/collect.c).  Until it did, LTO
# outside the hot path failed 27 leak tests, and those files were built
# with -fno-lto.  Fat objects: the unit tests link single objects without
# LTO.  `make SHIM_LTO= SHIM_HOT_OPT=` builds plainly (with CFLAGS alone,
# -O0 for a debugger say).
# The shim's rooms, lowest first (docs/design.md, "Layout"); the root keeps
# the doors.  Every .c of a room is built, and each room is on the include
# path, so headers are named bare (each room's own header is named for its room: "leakinner.h").
SHIM_ROOMS  := shim/base shim/record shim/unwind shim/python/layout shim/python/reads \
               shim/python/frames shim/python/wrap shim/python/heap shim/python/retain \
               shim/python/graph shim/python/leakref shim/python shim/python/exit shim/snapshot shim/leak \
               shim/hooks shim/state shim/python/domain shim \
               shim/attach
SHIM_LTO    := -flto=auto -ffat-lto-objects
SHIM_HOT_OPT := -O3
SHIM_HOT    := shim/hooks/hooks shim/hooks/hookrecord shim/hooks/hookstack shim/record/pending shim/record/pendwalk shim/record/table shim/record/table_hint shim/record/tblpool shim/record/traces shim/record/sample \
               shim/unwind/unwind shim/unwind/cfi shim/unwind/cfichecks shim/unwind/rulecache
SHIM_CFLAGS := $(CFLAGS) $(CPPFLAGS) $(WARN) -std=gnu11 -fPIC -fvisibility=hidden -I$(BUILD)/gen \
               -fno-omit-frame-pointer -pthread -D_GNU_SOURCE $(addprefix -I,$(SHIM_ROOMS))
# The preloaded shim's thread-locals are initial-exec (docs/design.md).  The
# copy that `heapsnap attach` loads into a running process cannot be: glibc
# keeps only ~1.5 KiB of static TLS for libraries loaded by dlopen, and the
# shim's is 6 KiB ("cannot allocate memory in static TLS block").  That copy,
# libheapsnap-attach.so, is built from the same sources with dynamic TLS
# (descriptors); its malloc is reached only through rewritten GOT entries,
# never by the loader's own allocations, so the first access of a thread,
# which allocates, cannot re-enter it (shim/attach/latestart.c).
SHIM_TLS        := -ftls-model=initial-exec
SHIM_TLS_ATTACH := -ftls-model=global-dynamic -mtls-dialect=gnu2 -DHEAPSNAP_ATTACH_BUILD
# zlib (the snapshot's CRC-32 only) is linked in statically: as a library
# of its own it was ~120 KiB of every profiled process's resident memory
# (its pages around crc32 and each segment's first page), for ~13 KiB of
# code and tables here (docs/performance.md, issue 21).  Its symbols stay
# local (shim/exports.map).  libunwind's archive is not PIC, so it stays a
# shared library.  zstd (the snapshots' sections, shim/snapshot/zsec.c) is linked in
# statically for the same reason as zlib: Debian's libzstd.a is PIC.
SHIM_LIBS   := -lunwind -Wl,--push-state,-Bstatic -lz -lzstd -Wl,--pop-state -ldl -pthread
# The CLI's rooms, lowest first (docs/design.md, "Layout"): a file placed in
# a room is built, and its headers are found by their bare names.
CLI_ROOMS   := report report/base report/inject report/load report/symbols report/model \
               report/export report/html report/gate report/serve report/liveview \
               report/runner report/cmdline report/commands
CLI_INC     := -Ishim $(addprefix -I,$(CLI_ROOMS))
CLI_CFLAGS  := $(CFLAGS) $(CPPFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE $(CLI_INC) -I$(BUILD)/gen
# libstdc++'s __cxa_demangle is dlopened by report/symbols/demangle.c at the first C++
# name, and C++ is linked into no command's start.  Rust's names are demangled by
# libiberty's rust_demangle (binutils' and valgrind's), whose archive is linked in.
# libmicrohttpd is `heapsnap serve`'s HTTP server (report/serve/httpd.c), dlopened
# by serve alone (report/serve/mhdload.c): not linked, so no command's start loads GnuTLS.
# toml++ reads the rules file, .heapsnap.toml (report/load/tomlread.cc, the one C++
# file; its flags are Debian's tomlplusplus.pc: the shared library build), built as
# libheapsnap-toml.so, which the CLI opens when it reads one (report/load/tomlload.c).
CLI_CXXFLAGS := $(CFLAGS) $(CPPFLAGS) -Wall -Wextra -std=c++17 -fPIC -DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1 $(CLI_INC)
CLI_LIBS    := -liberty -ldw -lelf -lz -lzstd -lm -lprotobuf-c -lncurses
CLI_CXX_LIBS := -ltomlplusplus -Wl,--push-state,--no-as-needed -lstdc++ -Wl,--pop-state

SHIM_SRC := $(foreach r,$(SHIM_ROOMS),$(wildcard $(r)/*.c))
SHIM_HDR := $(foreach r,$(SHIM_ROOMS),$(wildcard $(r)/*.h))
CLI_SRC  := $(foreach r,$(CLI_ROOMS),$(wildcard $(r)/*.c))
CLI_HDR  := $(foreach r,$(CLI_ROOMS),$(wildcard $(r)/*.h))
CLI_CXX_SRC := $(foreach r,$(CLI_ROOMS),$(wildcard $(r)/*.cc))
CLI_LIB_SRC := $(filter-out report/main.c,$(CLI_SRC))
SHIM_OBJ := $(SHIM_SRC:%.c=$(BUILD)/obj/%.o)
SHIM_ATT_OBJ := $(SHIM_SRC:%.c=$(BUILD)/obj-attach/%.o)
CLI_CXX_OBJ := $(CLI_CXX_SRC:%.cc=$(BUILD)/obj/%.o)
# Generated at build time: the pprof export's protobuf code (protoc-c, from
# report/export/profile.proto), and the HTML report's script and style sheet
# (report/html/, embedded whole by report/html/assets.S's .incbin).
CLI_GEN  := $(BUILD)/gen/profile.pb-c.c
HTML_ASSETS := $(wildcard report/html/*.js report/html/*.css)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/profile.pb-c.o \
            $(BUILD)/obj/report/html/assets.o

.PHONY: all deps fixtures examples check check-fast demo fuzz bench man install uninstall deb clean print-%
all: $(BUILD)/libheapsnap.so $(BUILD)/libheapsnap-attach.so $(BUILD)/heapsnap $(BUILD)/libheapsnap-toml.so \
     $(BUILD)/include/heapsnap.h fixtures examples

# The fixture programs the README and docs/ run (build/fixtures/demo...): made by
# all, so that every page's commands run after the README's set-up as written
# (scripts/docwalk.py walks them).  tests/fixtures/build.sh rebuilds only a stale one.
DOC_FIXTURES := demo sites api peak temps phases mapped reserve fails cxxwrappers namedthreads
fixtures: $(BUILD)/include/heapsnap.h
	@BUILD=$(BUILD) tests/fixtures/build.sh $(DOC_FIXTURES)

# docs/python.md's program (docs/examples/app.py) and its leaking C extension, built
# against the headers of the python3 on PATH, the one the page runs.
examples:
	@inc=$$(python3 -c 'import sysconfig; print(sysconfig.get_path("include"))' 2>/dev/null); \
	 suf=$$(python3 -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))' 2>/dev/null); \
	 out=$(BUILD)/examples/pyext$$suf; \
	 if [ -z "$$suf" ] || [ ! -f "$$inc/Python.h" ]; then \
	   echo "examples: python3 has no headers (python3-dev): docs/python.md's app.py cannot run" >&2; \
	 elif [ ! "$$out" -nt docs/examples/pyext.c ]; then mkdir -p $(BUILD)/examples && \
	   $(CC) -shared -fPIC -g -O0 -fdebug-prefix-map=$$PWD=. -I"$$inc" docs/examples/pyext.c -o "$$out"; fi

deps:
	@scripts/install-deps.sh build

$(BUILD)/obj/shim/%.o: shim/%.c $(SHIM_HDR) Makefile $(BUILD)/gen/version.h
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) $(SHIM_TLS) $(SHIM_LTO) $(if $(filter shim/$*,$(SHIM_HOT)),$(SHIM_HOT_OPT)) -c $< -o $@

$(BUILD)/obj-attach/shim/%.o: shim/%.c $(SHIM_HDR) Makefile $(BUILD)/gen/version.h
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) $(SHIM_TLS_ATTACH) $(SHIM_LTO) $(if $(filter shim/$*,$(SHIM_HOT)),$(SHIM_HOT_OPT)) -c $< -o $@

$(BUILD)/obj/report/%.o: report/%.c $(CLI_HDR) $(wildcard shim/hsnap_*.h) \
                        shim/options_table.h $(BUILD)/gen/profile.pb-c.h $(BUILD)/gen/version.h
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) -c $< -o $@

$(BUILD)/obj/report/%.o: report/%.cc $(CLI_HDR) Makefile
	@mkdir -p $(dir $@)
	$(CXX) $(CLI_CXXFLAGS) -c $< -o $@

$(BUILD)/gen/profile.pb-c.c $(BUILD)/gen/profile.pb-c.h &: report/export/profile.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=report/export --c_out=$(BUILD)/gen report/export/profile.proto

# version.h: HEAPSNAP_VERSION, from VERSION, for the CLI's --version and SARIF
# and the string the shim carries.
$(BUILD)/gen/version.h: VERSION
	@mkdir -p $(BUILD)/gen
	printf '#define HEAPSNAP_VERSION "%s"\n' "$$(cat VERSION)" >$@

$(BUILD)/obj/gen/profile.pb-c.o: $(BUILD)/gen/profile.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(BUILD)/gen -c $< -o $@

$(BUILD)/obj/report/html/assets.o: report/html/assets.S $(HTML_ASSETS)
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

# The shim's text in the order of shim/text.order (scripts/bench/textorder.py
# lists the functions the bench workloads run): a page of text is resident
# with its 64 KiB fault-around window, and the functions a run executes,
# packed at the head, fault in a few windows instead of most of the text
# (docs/performance.md, "Peak RSS").  Each name takes every clone of it
# (.lto_priv.N, .constprop.N...); a name not listed is linked after them.
SHIM_ORDER := -ffunction-sections -Wl,-T,$(BUILD)/gen/text.ld
# The linker's own script for this link (-shared, -z now), with the listed
# functions' sections put first in .text: one .text still, as valgrind and
# the tools that read the shim's symbols expect.
$(BUILD)/gen/text.ld: shim/text.order Makefile
	@mkdir -p $(BUILD)/gen
	$(CC) -shared -Wl,-z,now -Wl,--verbose -o /dev/null 2>/dev/null | \
	    sed -n '/^=====/,/^=====/{/^=====/d;p}' >$@.def
	awk 'FNR == NR { if ($$0 ~ /^[A-Za-z_*]/) n[k++] = $$0; next } \
	     { print } \
	     /^  \.text[ \t]*:/ { t = 1 } \
	     t && /^  \{/ { t = 0; for (i = 0; i < k; i++) { m = n[i]; \
	         if (m ~ /^\*/) printf "    %s\n", m; else \
	         printf "    *(.text.%s .text.%s.* .text.hot.%s .text.hot.%s.* .text.startup.%s .text.startup.%s.*)\n", m, m, m, m, m, m } }' \
	    shim/text.order $@.def >$@
	grep -q 'text\.hook_malloc_tracked ' $@
	rm -f $@.def

# -z now: every call the shim makes is bound at load, so the leak check's
# fork (shim/leak/fork.c), whose other threads' locks stay held, never runs
# the lazy resolver.
$(BUILD)/libheapsnap.so: $(SHIM_OBJ) shim/exports.map $(BUILD)/gen/text.ld
	$(CC) -shared $(CFLAGS) $(LDFLAGS) $(SHIM_LTO) $(SHIM_HOT_OPT) $(SHIM_ORDER) -Wl,--version-script=shim/exports.map -Wl,-z,nodelete -Wl,-z,defs -Wl,-z,now \
	    -o $@ $(SHIM_OBJ) $(SHIM_LIBS)

$(BUILD)/libheapsnap-attach.so: $(SHIM_ATT_OBJ) shim/exports.map $(BUILD)/gen/text.ld
	$(CC) -shared $(CFLAGS) $(LDFLAGS) $(SHIM_LTO) $(SHIM_HOT_OPT) $(SHIM_ORDER) -Wl,--version-script=shim/exports.map -Wl,-z,nodelete -Wl,-z,defs -Wl,-z,now \
	    -o $@ $(SHIM_ATT_OBJ) $(SHIM_LIBS)

$(BUILD)/heapsnap: $(CLI_OBJ)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(CLI_LIBS)

$(BUILD)/libheapsnap-toml.so: $(CLI_CXX_OBJ)
	$(CXX) $(LDFLAGS) -shared -o $@ $(CLI_CXX_OBJ) $(CLI_CXX_LIBS)

$(BUILD)/include/heapsnap.h: shim/heapsnap.h
	@mkdir -p $(dir $@)
	cp $< $@

# The bench's packages too (tests/scripts/test_bench.sh runs it) and the npm SARIF
# validator (tests/report/gate), here rather than inside a test, whose time limit a
# fresh machine's downloads would exceed; without the npm registry, tests/report/gate
# says why its SARIF checks fail.
# The sizes come first, as a report (scripts/sizes.sh), never a failure; the
# last line stays tests/run.sh's "N passed, N failed, N skipped".  The build
# takes every CPU unless make was given -j (CHECK_JOBS), as tests/run.sh does.
CHECK_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 1))
check:
	@scripts/install-deps.sh bench
	@scripts/install-deps.sh npm || echo "make check: the npm SARIF validator could not be installed" >&2
	@$(MAKE) --no-print-directory $(CHECK_JOBS) all
	@scripts/sizes.sh
	@scripts/debian-root.sh make trixie sid >/dev/null && scripts/debian-root.sh wrappers $(BUILD)/roots || \
	  echo "make check: the Debian roots could not be made: Debian 13's and sid's CPythons go untested" >&2
	@tests/run.sh

# The edit-test loop: the unit tests and the offline tests of fixtures
# (tests/run.sh --quick), with nothing installed past the build's packages:
# no service, browser, registry or other Python.  make check runs them all.
check-fast:
	@scripts/install-deps.sh quick
	@$(MAKE) --no-print-directory $(CHECK_JOBS) all
	@tests/run.sh --quick

# make demo: a line a step (installing, building, profiling), then the
# report; the compiler's lines go to $(BUILD)/build.log (V=1 prints them).
demo:
	@scripts/install-deps.sh build
	@echo "demo: building heapsnap (make all; V=1 shows each command)"
	@mkdir -p $(BUILD)
	@if [ "$(V)" = 1 ]; then $(MAKE) --no-print-directory all; \
	elif ! $(MAKE) --no-print-directory all >$(BUILD)/build.log 2>&1; then \
	  tail -n 20 $(BUILD)/build.log; \
	  echo "demo: the build failed; all its lines are in $(BUILD)/build.log" >&2; exit 2; fi
	@scripts/demo.sh

# libFuzzer + ASan over the snapshot reader; seeds come from tests/fuzz/corpus.
fuzz: $(CLI_CXX_OBJ)
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory $(CLI_GEN) $(BUILD)/gen/version.h
	@mkdir -p $(BUILD)/fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE $(CLI_INC) \
	    -I$(BUILD)/gen tests/fuzz/fuzz_load.c $(CLI_LIB_SRC) $(CLI_GEN) report/html/assets.S \
	    $(CLI_CXX_OBJ) -o $(BUILD)/fuzz/fuzz_load $(CLI_LIBS) $(CLI_CXX_LIBS)
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz_load -max_total_time=$(FUZZ_SECONDS) -timeout=5 \
	    $(BUILD)/fuzz/corpus tests/fuzz/corpus

bench:
	@scripts/install-deps.sh bench
	@scripts/bench/bench.py

# Man pages are made from the --help texts (scripts/man.sh, help2man), so
# they say what the program says.
man: $(BUILD)/heapsnap scripts/man.sh
	@rm -rf $(BUILD)/man
	scripts/man.sh $(BUILD)/heapsnap $(BUILD)/man

install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/heapsnap $(DESTDIR)$(PREFIX)/include \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(BUILD)/heapsnap $(DESTDIR)$(PREFIX)/bin/heapsnap
	install -m 755 $(BUILD)/libheapsnap.so $(DESTDIR)$(PREFIX)/lib/heapsnap/libheapsnap.so
	install -m 755 $(BUILD)/libheapsnap-attach.so $(DESTDIR)$(PREFIX)/lib/heapsnap/libheapsnap-attach.so
	install -m 644 $(BUILD)/libheapsnap-toml.so $(DESTDIR)$(PREFIX)/lib/heapsnap/libheapsnap-toml.so
	install -m 644 shim/heapsnap.h $(DESTDIR)$(PREFIX)/include/heapsnap.h
	install -m 644 $(BUILD)/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 scripts/heapsnap.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/heapsnap

# What install put there, and the directory of its own (lib/heapsnap) once empty.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/heapsnap $(DESTDIR)$(PREFIX)/include/heapsnap.h \
	    $(DESTDIR)$(PREFIX)/lib/heapsnap/libheapsnap.so $(DESTDIR)$(PREFIX)/lib/heapsnap/libheapsnap-attach.so \
	    $(DESTDIR)$(PREFIX)/lib/heapsnap/libheapsnap-toml.so \
	    $(DESTDIR)$(PREFIX)/share/man/man1/heapsnap.1 $(DESTDIR)$(PREFIX)/share/man/man1/heapsnap-*.1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/heapsnap
	rmdir $(DESTDIR)$(PREFIX)/lib/heapsnap 2>/dev/null || true

# A Debian package built from a copy of the tree (scripts/deb.sh): ../heapsnap_VERSION_ARCH.deb
# of that copy, named on the last line; the tree itself stays as it is.
deb:
	@BUILD=$(BUILD) scripts/deb.sh

clean:
	rm -rf $(BUILD)

# `make -s print-SHIM_ROOMS`: a variable's value, for the scripts and tests
# that follow the Makefile's lists (tests/layout/test_rooms.sh).
print-%:
	@echo $($*)
