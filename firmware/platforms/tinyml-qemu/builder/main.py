"""SCons builder for tinyml-qemu: bare-metal Cortex-M ELF with system arm-none-eabi-gcc.

Flags: -mcpu from the board, hard-float FPU, -O2, per-function sections and
--gc-sections, newlib-nano. The port folder supplies startup code and the
linker script (board "build.ldscript", looked up in the port directory).
"""
import os
import sys

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()

PREFIX = "arm-none-eabi-"
if not env.WhereIs(PREFIX + "gcc"):
    sys.stderr.write(
        "Error: arm-none-eabi-gcc not found on PATH. Install the Debian packages "
        "gcc-arm-none-eabi libnewlib-arm-none-eabi (scripts/setup.sh does it).\n")
    env.Exit(1)

env.Replace(
    AR=PREFIX + "gcc-ar", AS=PREFIX + "as", CC=PREFIX + "gcc", CXX=PREFIX + "g++",
    GDB=PREFIX + "gdb", OBJCOPY=PREFIX + "objcopy", RANLIB=PREFIX + "gcc-ranlib",
    SIZETOOL=PREFIX + "size", PROGNAME="firmware", PROGSUFFIX=".elf",
    SIZEPROGREGEXP=r"^(?:\.text|\.data|\.ARM\.exidx)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
)

cpu = board.get("build.cpu", "cortex-m4")
machine = ["-mcpu=%s" % cpu, "-mthumb"]
fpu = board.get("build.fpu", "")
if fpu:
    machine += ["-mfloat-abi=hard", "-mfpu=%s" % fpu]
else:
    machine += ["-mfloat-abi=soft"]

common = machine + ["-O2", "-ffunction-sections", "-fdata-sections", "-fno-common"]
env.Append(
    ASFLAGS=machine,
    CCFLAGS=common + ["-Wall", "-Wextra"],
    CFLAGS=["-std=c99"],
    CXXFLAGS=["-fno-rtti", "-fno-exceptions"],
    CPPDEFINES=[("F_CPU", board.get("build.f_cpu", "25000000L")), "TM_PORT_BAREMETAL"],
    LINKFLAGS=machine + ["-Wl,--gc-sections", "--specs=nano.specs", "--specs=nosys.specs",
                         "-nostartfiles", "-Wl,-Map,${BUILD_DIR}/firmware.map"],
    LIBS=["c_nano", "m", "gcc"],
)
# The build-info record reports the exact code-generation flags.
env.Append(CPPDEFINES=[("TM_BUILD_CFLAGS", env.StringifyMacro(" ".join(common)))])

# Linker script lives with the port sources (firmware/ports/<board>/).
ldscript = board.get("build.ldscript", "")
if ldscript and not os.path.isabs(ldscript):
    for cand in (os.path.join(env.subst("$PROJECT_SRC_DIR"), "ports", "qemu_m4", ldscript),
                 os.path.join(env.subst("$PROJECT_DIR"), ldscript)):
        if os.path.isfile(cand):
            ldscript = cand
            break
if ldscript:
    env.Replace(LDSCRIPT_PATH=ldscript)

# The model sources come from `tinyml export`; without them the link fails with
# a confusing missing-header error, so say what to do instead.
# Only for the tinyml firmware layout (src_dir = firmware/ with harness/).
gen_dir = os.path.join(env.subst("$PROJECT_SRC_DIR"), "generated")
is_tinyml = os.path.isdir(os.path.join(env.subst("$PROJECT_SRC_DIR"), "harness"))
has_model = os.path.isdir(gen_dir) and any(
    f.endswith((".c", ".h", ".cc", ".cpp")) for f in os.listdir(gen_dir))
if is_tinyml and not has_model:
    sys.stderr.write(
        "Error: %s holds no generated model sources. Run `tinyml export --target %s "
        "--project %s` first (it writes the model's C files there).\n"
        % (gen_dir, env.subst("$PIOENV"), env.subst("$PROJECT_DIR")))
    env.Exit(1)

target_elf = env.BuildProgram()
target_size = env.AddPlatformTarget(
    "size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE"),
    "Program Size", "Calculate program size")
qemu_cmd = ("qemu-system-arm -M %s -nographic -icount shift=3 "
            "-semihosting-config enable=on,target=native -kernel $SOURCE" % board.get("build.qemu_machine", "mps2-an386"))
env.AddPlatformTarget("upload", target_elf, env.VerboseAction(qemu_cmd, "Running $SOURCE in QEMU"),
                      "Run in QEMU", "Boot the ELF in qemu-system-arm with the UART on this terminal")
AlwaysBuild(target_size)
Default([target_elf, target_size])
