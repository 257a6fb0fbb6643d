"""ELF headers: which CPU a Linux executable was built for, and tiny real executables per CPU.

Why: "exec format error" is the kernel refusing an executable built for another CPU. The CPU is
written in the first 20 bytes of every ELF file (`e_ident` and `e_machine`, System V ABI, "ELF
Header"), so reading it is a fixed-layout read of a few bytes; no library is needed for that.
The minimal executables let a learner see the kernel's real refusal without Docker or AWS.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from sfnecs.checks import check_bool
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, localize, tr

ELF_MAGIC = b"\x7fELF"
#: How many bytes `ElfHeader.parse` needs: e_ident (16) + e_type (2) + e_machine (2).
HEADER_BYTES = 20

# e_machine values (System V ABI / Linux include/uapi/linux/elf-em.h).
EM_386, EM_MIPS, EM_PPC64, EM_S390, EM_ARM, EM_X86_64, EM_AARCH64, EM_RISCV, EM_LOONGARCH = (
    3,
    8,
    21,
    22,
    40,
    62,
    183,
    243,
    258,
)

_MACHINE_NAMES: dict[int, str] = {
    EM_386: "Intel 80386 (x86)",
    EM_MIPS: "MIPS",
    EM_PPC64: "PowerPC 64",
    EM_S390: "IBM S/390",
    EM_ARM: "ARM (32-bit)",
    EM_X86_64: "AMD x86-64",
    EM_AARCH64: "ARM AArch64",
    EM_RISCV: "RISC-V",
    EM_LOONGARCH: "LoongArch",
}

#: Architecture name spellings (uname -m, ECS, Go/OCI) -> the OCI `architecture` value.
ARCH_ALIASES: dict[str, str] = {
    "amd64": "amd64",
    "x86_64": "amd64",
    "x86-64": "amd64",
    "x64": "amd64",
    "arm64": "arm64",
    "aarch64": "arm64",
    "armv8": "arm64",
    "arm": "arm",
    "armv7": "arm",
    "armv7l": "arm",
    "armhf": "arm",
    "armv6l": "arm",
    "386": "386",
    "i386": "386",
    "i686": "386",
    "x86": "386",
    "riscv64": "riscv64",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "loong64": "loong64",
}


def oci_architecture(name: str) -> str | None:
    """The OCI/Go architecture name (amd64, arm64, ...) for any common spelling, else None."""
    return ARCH_ALIASES.get(name.strip().lower()) if isinstance(name, str) else None


@dataclass(frozen=True)
class ElfHeader:
    """The identifying part of an ELF header: word size, byte order, type and machine."""

    bits: int  # 32 or 64 (EI_CLASS)
    endianness: str  # "little" or "big" (EI_DATA)
    e_type: int  # 2 = ET_EXEC (static), 3 = ET_DYN (PIE or shared object)
    machine: int  # e_machine

    @classmethod
    def parse(cls, data: bytes) -> ElfHeader | None:
        """Read the header from the first bytes of a file; None when it is not a complete ELF header."""
        if len(data) < HEADER_BYTES or data[:4] != ELF_MAGIC:
            return None
        ei_class, ei_data = data[4], data[5]
        if ei_class not in (1, 2) or ei_data not in (1, 2):
            return None
        order = "<" if ei_data == 1 else ">"
        e_type, machine = struct.unpack_from(order + "HH", data, 16)
        return cls(bits=32 * ei_class, endianness="little" if ei_data == 1 else "big", e_type=e_type, machine=machine)

    @property
    def machine_name(self) -> str:
        return _MACHINE_NAMES.get(self.machine, f"unknown machine 0x{self.machine:x}")

    @property
    def architecture(self) -> str | None:
        """The OCI architecture this header means (amd64, arm64, ...), None when there is none."""
        m, b, little = self.machine, self.bits, self.endianness == "little"
        if m == EM_X86_64:
            return "amd64"
        if m == EM_AARCH64:
            return "arm64"
        if m == EM_ARM:
            return "arm"
        if m == EM_386:
            return "386"
        if m == EM_RISCV:
            return "riscv64" if b == 64 else "riscv32"
        if m == EM_PPC64:
            return "ppc64le" if little else "ppc64"
        if m == EM_S390:
            return "s390x" if b == 64 else "s390"
        if m == EM_MIPS:
            return ("mips64" if b == 64 else "mips") + ("le" if little else "")
        if m == EM_LOONGARCH:
            return "loong64"
        return None

    def describe(self) -> str:
        """One line as `file(1)` would put it, e.g. 'ELF 64-bit LSB, AMD x86-64 (amd64)'.

        Not translated: like `file(1)`'s output (which no locale changes), it is a technical name
        (the ELF class, byte order and the machine's name in the ELF spec) a reader searches for as is.
        """
        order = "LSB" if self.endianness == "little" else "MSB"
        return f"ELF {self.bits}-bit {order}, {self.machine_name} ({self.architecture or '?'})"


# ---- minimal executables -------------------------------------------------------------------
# Each program is the three instructions of `exit(0)` through the Linux system call ABI of its CPU
# (syscall numbers from the kernel's unistd tables: exit is 60 on x86-64, 93 on arm64/riscv64,
# 1 on arm and i386). One PT_LOAD segment maps the whole file; the entry point follows the headers.
_PROGRAMS: dict[str, tuple[int, int, int, int, bytes]] = {
    # arch: (e_machine, bits, e_flags, load address, code)
    "amd64": (EM_X86_64, 64, 0, 0x400000, bytes.fromhex("31ffb83c0000000f05")),  # xor edi,edi; mov eax,60; syscall
    "arm64": (
        EM_AARCH64,
        64,
        0,
        0x400000,
        struct.pack("<3I", 0xD2800000, 0xD2800BA8, 0xD4000001),
    ),  # mov x0,#0; mov x8,#93; svc #0
    "riscv64": (
        EM_RISCV,
        64,
        0x5,
        0x10000,  # e_flags: RVC + double-float ABI, as GCC emits
        struct.pack("<3I", 0x00000513, 0x05D00893, 0x00000073),
    ),  # li a0,0; li a7,93; ecall
    "arm": (
        EM_ARM,
        32,
        0x05000000,
        0x10000,  # e_flags: EABI version 5
        struct.pack("<3I", 0xE3A00000, 0xE3A07001, 0xEF000000),
    ),  # mov r0,#0; mov r7,#1; svc #0
    "386": (EM_386, 32, 0, 0x8048000, bytes.fromhex("31dbb801000000cd80")),  # xor ebx,ebx; mov eax,1; int 0x80
}

MINIMAL_ARCHITECTURES = tuple(_PROGRAMS)
#: OCI architecture -> the name of QEMU's user-mode emulator for it (`qemu-<name>`, Debian package qemu-user)
QEMU_NAMES = {"amd64": "x86_64", "arm64": "aarch64", "riscv64": "riscv64", "arm": "arm", "386": "i386"}


def minimal_elf(architecture: str) -> bytes:
    """A complete static ELF executable for `architecture` that exits with status 0.

    Why: fixture images need real binaries, and the exec-format demo needs one that runs on this
    machine and one that the kernel refuses; a few hundred bytes suffice and need no toolchain.
    """
    arch = oci_architecture(architecture)
    if arch not in _PROGRAMS:
        raise ValidationError("architecture", architecture, "use one of " + ", ".join(MINIMAL_ARCHITECTURES))
    machine, bits, flags, base, code = _PROGRAMS[arch]
    # ELF64 and ELF32 headers differ only in the width of e_entry, e_phoff and e_shoff (Q or I) and so in size
    ei_class, word, ehsize, phsize = (2, "Q", 64, 56) if bits == 64 else (1, "I", 52, 32)
    size = ehsize + phsize + len(code)
    header = struct.pack(
        f"<16sHHI{word * 3}IHHHHHH",
        _ident(ei_class),
        2,
        machine,
        1,
        base + ehsize + phsize,
        ehsize,
        0,
        flags,
        ehsize,
        phsize,
        1,
        0,
        0,
        0,
    )
    if bits == 64:
        # p_type PT_LOAD, p_flags R+X, offset 0, vaddr, paddr, filesz, memsz, align
        phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    else:
        # p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags R+X, p_align
        phdr = struct.pack("<IIIIIIII", 1, 0, base, base, size, size, 5, 0x1000)
    return header + phdr + code


def _ident(ei_class: int) -> bytes:
    # magic, class, little-endian, EV_CURRENT, System V ABI, ABI version 0, padding
    return ELF_MAGIC + bytes([ei_class, 1, 1, 0, 0]) + bytes(7)


# ---- seeing the kernel refuse a foreign binary ------------------------------------------------
@dataclass(frozen=True)
class ReproResult:
    """What happened when this machine exec'd a minimal ELF for another CPU, and one for its own."""

    host_machine: str  # platform.machine()
    host_architecture: str | None  # its OCI name
    foreign_architecture: str
    foreign_elf: ElfHeader
    foreign_errno: int | None  # 8 (ENOEXEC) when the kernel refuses it
    foreign_error: str | None  # Python's message, e.g. "[Errno 8] Exec format error: '/tmp/.../job'"
    foreign_returncode: int | None  # set when it ran anyway (binfmt_misc + an emulator such as qemu)
    binfmt_handlers: tuple[str, ...]  # enabled binfmt_misc entries whose magic matches the foreign file
    host_returncode: int | None  # 0: the native minimal ELF ran and exited cleanly
    host_error: str | None
    container_message: str  # how a container runtime (Go) reports the same errno in the task's log
    emulator: str | None = None  # qemu-<cpu> (user mode) found on PATH, if any
    emulated_returncode: int | None = None  # the foreign binary run through that emulator

    @property
    def refused(self) -> bool:
        """True when the kernel said ENOEXEC (Exec format error) for the foreign binary."""
        import errno

        return self.foreign_errno == errno.ENOEXEC

    def summary(self) -> str:
        """What happened, in one or two sentences (in the reader's language; the kernel's own text stays)."""
        arch, host = self.foreign_architecture, self.host_machine
        if self.refused:
            text = tr(
                "The kernel refused the {arch} binary on this {host} host: {error}. "
                "In an ECS task log the same refusal reads: {message}",
                arch=arch,
                host=host,
                error=self.foreign_error,
                message=self.container_message,
            )
            if self.emulated_returncode is not None:
                text += tr(
                    ". Run through the emulator {emulator}, the same file exits {code}: "
                    "the file is sound, only the CPU differs (Fargate runs no emulator)",
                    emulator=self.emulator,
                    code=self.emulated_returncode,
                )
            return text
        if self.foreign_returncode is not None:
            return tr(
                "The {arch} binary ran (exit {code}) because binfmt_misc hands it to an emulator ({handlers}); "
                "Fargate registers no such emulator, so there it fails with exec format error",
                arch=arch,
                code=self.foreign_returncode,
                handlers=", ".join(self.binfmt_handlers) or tr("a registered handler"),
            )
        return tr("The {arch} binary could not be started: {error}", arch=arch, error=self.foreign_error)

    def to_frame(self) -> Any:
        """One row per program exec'd: which, its ELF header, and what happened (headers shown translated)."""
        import pandas as pd

        def exited(code: int | None) -> str:
            return tr("exit {code}", code=code)

        rows = [
            {
                "binary": tr("minimal ELF for {arch}", arch=self.foreign_architecture),
                "elf": self.foreign_elf.describe(),
                "outcome": self.foreign_error if self.foreign_errno is not None else exited(self.foreign_returncode),
            },
            {
                "binary": tr("minimal ELF for {arch} (this host)", arch=self.host_architecture or self.host_machine),
                "elf": (
                    ElfHeader.parse(minimal_elf(self.host_architecture)).describe()  # type: ignore[union-attr]
                    if self.host_architecture in _PROGRAMS
                    else tr("none for this CPU")
                ),
                "outcome": self.host_error if self.host_error else exited(self.host_returncode),
            },
        ]
        if self.emulator:
            rows.append(
                {
                    "binary": tr(
                        "minimal ELF for {arch}, via {emulator}", arch=self.foreign_architecture, emulator=self.emulator
                    ),
                    "elf": self.foreign_elf.describe(),
                    "outcome": exited(self.emulated_returncode),
                }
            )
        return pd.DataFrame(rows, columns=[N_("binary"), N_("elf"), N_("outcome")])

    def _repr_html_(self) -> str:
        import html

        return f"<p>{html.escape(self.summary())}</p>" + localize(self.to_frame()).to_html(index=False)


def reproduce_exec_format_error(workdir: str | None = None, *, emulate: bool = False) -> ReproResult:
    """Exec a minimal ELF built for another CPU (and one for this CPU) and report what the kernel said.

    Why: a learner sees the real "[Errno 8] Exec format error" that sits behind Fargate's
    "exec /app/job: exec format error", without Docker or AWS. If binfmt_misc has an emulator
    registered for the foreign CPU (qemu-user-static does this), the binary runs: that is reported.
    `emulate=True`: when QEMU's user-mode emulator for that CPU is installed (Debian: qemu-user),
    the same file is also run through it, to show the file itself is sound. Off by default, so the
    result (and a notebook's stored output) does not depend on what this machine has installed.
    """
    check_bool("emulate", emulate)
    import os
    import platform
    import shutil
    import tempfile

    machine = platform.machine()
    host = oci_architecture(machine)
    foreign = "arm64" if host == "amd64" else "amd64"
    foreign_bytes = minimal_elf(foreign)
    with tempfile.TemporaryDirectory(prefix="sfnecs-exec-", dir=workdir) as tmp:
        foreign_path = os.path.join(tmp, f"job-{foreign}")
        _write_executable(foreign_path, foreign_bytes)
        errno_value, error, returncode = _run(foreign_path)
        emulator = shutil.which(f"qemu-{QEMU_NAMES[foreign]}") if emulate else None
        emulated = _run(foreign_path, emulator)[2] if emulator else None
        host_rc, host_error = None, None
        if host in _PROGRAMS:
            host_path = os.path.join(tmp, f"job-{host}")
            _write_executable(host_path, minimal_elf(host))
            _, host_error, host_rc = _run(host_path)
        else:
            host_error = tr(
                "no minimal program for {machine}: only {architectures}",
                machine=machine,
                architectures=", ".join(MINIMAL_ARCHITECTURES),
            )
    return ReproResult(
        host_machine=machine,
        host_architecture=host,
        foreign_architecture=foreign,
        foreign_elf=ElfHeader.parse(foreign_bytes),  # type: ignore[arg-type]
        foreign_errno=errno_value,
        foreign_error=error,
        foreign_returncode=returncode,
        binfmt_handlers=tuple(binfmt_handlers_for(foreign_bytes)),
        host_returncode=host_rc,
        host_error=host_error,
        container_message="exec /app/job: exec format error",
        emulator=os.path.basename(emulator) if emulator else None,
        emulated_returncode=emulated,
    )


def _write_executable(path: str, data: bytes) -> None:
    import os

    with open(path, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o755)


def _run(path: str, emulator: str | None = None) -> tuple[int | None, str | None, int | None]:
    """(errno, error text, return code) of exec'ing `path` directly (no shell, so no sh fallback),
    or through `emulator` (e.g. /usr/bin/qemu-aarch64)."""
    import subprocess

    try:
        done = subprocess.run([emulator, path] if emulator else [path], capture_output=True, timeout=10, check=False)
    except OSError as exc:  # ENOEXEC from execve; EACCES when the directory is mounted noexec
        return exc.errno, str(exc), None
    return None, None, done.returncode


def binfmt_handlers_for(data: bytes, root: str = "/proc/sys/fs/binfmt_misc") -> list[str]:
    """Names of enabled binfmt_misc handlers whose magic/mask match `data` (as the kernel matches them)."""
    import os

    found: list[str] = []
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return found  # binfmt_misc not mounted: no handler can intercept
    for name in names:
        if name in ("register", "status"):
            continue
        try:
            with open(os.path.join(root, name)) as fh:
                fields = {key: value for key, _, value in (line.partition(" ") for line in fh.read().splitlines())}
        except OSError:
            continue
        if "enabled" not in fields or "magic" not in fields:
            continue
        offset = int(fields.get("offset", "0").strip() or 0)
        magic = bytes.fromhex(fields["magic"].strip())
        mask = bytes.fromhex(fields["mask"].strip()) if "mask" in fields else b"\xff" * len(magic)
        window = data[offset : offset + len(magic)]
        if len(window) == len(magic) and all((w & m) == (g & m) for w, g, m in zip(window, magic, mask, strict=False)):
            found.append(f"{name} -> {fields.get('interpreter', '?').strip()}")
    return found
