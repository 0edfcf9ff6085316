# SPDX-License-Identifier: GPL-2.0
# GNU make running jobs in parallel: a failing job stops it (it waits for SIGCHLD in pselect),
# and a recursive make shares its jobserver. Run natively and contained; the outputs must be
# the same.
export PATH=/usr/bin:/bin LC_ALL=C
work=$(mktemp -d /tmp/make.XXXXXX)
printf 'all: a b c\na:\n\t@sleep 0.2; false\nb:\n\t@sleep 1\nc:\n\t@false\n' > "$work/failing.mk"
make -s -j2 -f "$work/failing.mk" 2>&1 | sed "s|$work/||"; echo "failing make status ${PIPESTATUS[0]}"
printf 'all: a b\na:\n\t@$(MAKE) -s -f %s/inner.mk x y\nb:\n\t@echo b\n' "$work" > "$work/outer.mk"
printf 'x:\n\t@sleep 0.3; echo x\ny:\n\t@echo y\n' > "$work/inner.mk"
make -s -j4 -f "$work/outer.mk" | sort; echo "recursive make status ${PIPESTATUS[0]}"
rm -r "$work"
echo "make: done"
