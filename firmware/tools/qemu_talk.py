#!/usr/bin/env python3
"""Boots the mps2-an386 firmware in QEMU and sends it protocol requests over a pty.

    python3 tools/qemu_talk.py ELF '1 hello' '2 caps' '3 run kernel=tanh ...'

Starts QEMU paused (-S) with the serial port on a pty and the monitor on stdin/stdout,
opens the pty in raw mode, sends `cont`, prints the boot line, then sends each request and
prints every line up to its `ok` or `err` answer. Ends with `<id> exit`, so QEMU quits
through semihosting. Uses -icount shift=0 (deterministic ticks: 40 instructions a tick).
Only the standard library is needed.
"""

import os
import re
import select
import subprocess
import sys
import termios
import time
import tty


def read_line(fd, buffer, timeout):
    deadline = time.monotonic() + timeout
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no line from the board; got {bytes(buffer)!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                raise EOFError(f"the pty closed (QEMU ended); got {bytes(buffer)!r}")
            buffer.extend(data)
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line.rstrip(b"\r").decode("ascii")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    elf, requests = sys.argv[1], sys.argv[2:]
    qemu = subprocess.Popen(
        ["qemu-system-arm", "-M", "mps2-an386", "-display", "none", "-serial", "pty",
         "-semihosting-config", "enable=on,target=native", "-kernel", elf, "-S",
         "-monitor", "stdio", "-icount", "shift=0,align=off,sleep=off"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pty = None
    for line in qemu.stdout:
        match = re.search(r"char device redirected to (\S+)", line)
        if match:
            pty = match.group(1)
            break
    if pty is None:
        sys.exit("QEMU printed no pty")
    fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd, termios.TCSANOW)
    qemu.stdin.write("cont\n")
    qemu.stdin.flush()
    buffer = bytearray()
    print(read_line(fd, buffer, 5))
    last_id = 0
    for request in requests + ["exit"]:
        if request == "exit":
            request = f"{last_id + 1} exit"
        request_id = request.split()[0]
        last_id = int(request_id) if request_id.isdigit() else last_id
        os.write(fd, request.encode("ascii") + b"\n")
        while True:
            line = read_line(fd, buffer, 60)
            print(line)
            words = line.split()
            if len(words) >= 2 and words[1] in ("ok", "err"):
                break
    qemu.wait(timeout=10)
    print(f"# QEMU exit status {qemu.returncode}")


if __name__ == "__main__":
    main()
