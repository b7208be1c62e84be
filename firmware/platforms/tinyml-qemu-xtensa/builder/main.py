"""SCons builder for tinyml-qemu-xtensa: bare-metal Xtensa LX106 ELF with Debian's
xtensa-lx106-elf-gcc and picolibc, nothing downloaded.

Everything board-specific comes from the board JSON's "build" section: the
toolchain prefix, the ISA flags, picolibc's specs file, the port folder that
holds the start-up code and the linker script. -O2, per-function sections,
--gc-sections, like the Cortex-M4 platform. LX106 code is built with
-mtext-section-literals -mlongcalls: l32r reaches literals only backwards, so
each function's literal pool sits in front of it.
"""
import os
import sys

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()


def fail(msg):
    sys.stderr.write("Error: %s\n" % msg)
    env.Exit(1)


PREFIX = board.get("build.toolchain_prefix")
APT = board.get("build.apt_packages")
if not env.WhereIs(PREFIX + "gcc"):
    fail("%sgcc not found on PATH. Install the Debian packages %s (scripts/setup.sh does it)."
         % (PREFIX, APT))
SPECS = board.get("build.picolibc_specs")
if not os.path.isfile(SPECS):
    fail("%s is missing: picolibc is not installed. Install the Debian packages %s "
         "(scripts/setup.sh does it)." % (SPECS, APT))

env.Replace(
    AR=PREFIX + "gcc-ar", AS=PREFIX + "as", CC=PREFIX + "gcc", CXX=PREFIX + "g++",
    GDB=PREFIX + "gdb", OBJCOPY=PREFIX + "objcopy", RANLIB=PREFIX + "gcc-ranlib",
    SIZETOOL=PREFIX + "size", PROGNAME="firmware", PROGSUFFIX=".elf",
    SIZEPROGREGEXP=r"^(?:\.text|\.rodata|\.data)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
)

machine = list(board.get("build.cflags"))
common = machine + ["-O2", "-ffunction-sections", "-fdata-sections", "-fno-common"]
env.Append(
    ASFLAGS=machine,
    CCFLAGS=common + ["--specs=" + SPECS, "-Wall", "-Wextra"],
    CFLAGS=["-std=c99"],
    CXXFLAGS=["-fno-rtti", "-fno-exceptions"],
    CPPDEFINES=[("F_CPU", board.get("build.f_cpu")), "TM_PORT_BAREMETAL"],
    LINKFLAGS=list(board.get("build.linkflags")) + [
        "--specs=" + SPECS, "-nostartfiles", "-Wl,--gc-sections",
        "-Wl,-Map,${BUILD_DIR}/firmware.map"],
)
# The build-info record reports the exact code-generation flags.
env.Append(CPPDEFINES=[("TM_BUILD_CFLAGS", env.StringifyMacro(" ".join(common)))])

# Start-up code and linker script live with the port (firmware/ports/<port>/).
port_dir = os.path.join(env.subst("$PROJECT_SRC_DIR"), "ports", board.get("build.port"))
ldscript = os.path.join(port_dir, board.get("build.ldscript"))
if not os.path.isfile(ldscript):
    fail("linker script %s not found" % ldscript)
env.Replace(LDSCRIPT_PATH=ldscript)

# The model sources come from `tinyml export`; without them the build fails with
# a confusing missing-header error, so say what to do instead.
gen_dir = os.path.join(env.subst("$PROJECT_SRC_DIR"), "generated")
is_tinyml = os.path.isdir(os.path.join(env.subst("$PROJECT_SRC_DIR"), "harness"))
has_model = os.path.isdir(gen_dir) and any(
    f.endswith((".c", ".h", ".cc", ".cpp")) for f in os.listdir(gen_dir))
if is_tinyml and not has_model:
    fail("%s holds no generated model sources. Run `tinyml export --target %s --project %s` "
         "first (it writes the model's C files there)."
         % (gen_dir, env.subst("$PIOENV"), env.subst("$PROJECT_DIR")))

target_elf = env.BuildProgram()
target_size = env.AddPlatformTarget(
    "size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE"),
    "Program Size", "Calculate program size")
qemu_cmd = " ".join(board.get("build.qemu") + [
    "-nographic", "-icount", "shift=3", "-semihosting-config", "enable=on,target=native",
    "-kernel", "$SOURCE"])
env.AddPlatformTarget("upload", target_elf, env.VerboseAction(qemu_cmd, "Running $SOURCE in QEMU"),
                      "Run in QEMU", "Boot the ELF in QEMU with the UART on this terminal")
AlwaysBuild(target_size)
Default([target_elf, target_size])
