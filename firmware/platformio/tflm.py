"""PlatformIO pre-script: adds tinyperf's generated model sources and a pinned TFLM tree to the build.

TFLM is not a PlatformIO library, so it is fetched here: tensorflow/tflite-micro at the pinned
commit, exported once with TFLM's own create_tflm_tree.py into PlatformIO's core folder, reused
after that. Set TFLM_DIR to use a tree you already have (no download).
"""

import os
import subprocess
import sys
from pathlib import Path

Import("env")  # noqa: F821  (PlatformIO's SCons namespace)

TFLM_REPOSITORY = "https://github.com/tensorflow/tflite-micro"
TFLM_COMMIT = "8f6596d"  # keep equal to TFLM_PINNED_COMMIT in host/tinyperf/build/firmware.py
TREE_OPTIONS = "TARGET=cortex_m_generic TARGET_ARCH=cortex-m4+fp"
GIT_TIMEOUT_S = 900


def fail(message):
    sys.stderr.write(f"tinyperf: {message}\n")
    env.Exit(1)  # noqa: F821


def run(argv, cwd=None):
    try:
        subprocess.run(argv, cwd=cwd, check=True, timeout=GIT_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as e:
        fail(f"{' '.join(argv)} failed ({e}); set TFLM_DIR to an existing TFLM tree to skip the download")


def pinned_tree():
    root = Path(env.subst("$PROJECT_CORE_DIR")) / "tinyperf" / f"tflm-{TFLM_COMMIT}"  # noqa: F821
    tree = root / "tree"
    if (tree / "tensorflow" / "lite" / "micro" / "micro_interpreter.h").is_file():
        return tree
    source = root / "source"
    if not (source / ".git").is_dir():
        run(["git", "clone", "--filter=blob:none", TFLM_REPOSITORY, str(source)])
    run(["git", "-C", str(source), "checkout", "--detach", TFLM_COMMIT])
    run([sys.executable, "tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py",
         f"--makefile_options={TREE_OPTIONS}", str(tree)], cwd=str(source))
    return tree


generated = os.environ.get("TINYPERF_GENERATED_DIR")
if not generated or not (Path(generated) / "tp_config.h").is_file():
    fail("TINYPERF_GENERATED_DIR must name a folder with tp_config.h (run `tinyperf build`, which sets it)")
tflm = Path(os.environ["TFLM_DIR"]) if os.environ.get("TFLM_DIR") else pinned_tree()

env.Append(  # noqa: F821
    CPPPATH=[generated, str(tflm), str(tflm / "third_party" / "flatbuffers" / "include"),
             str(tflm / "third_party" / "gemmlowp"), str(tflm / "third_party" / "ruy"),
             str(tflm / "third_party" / "kissfft")],
    # no TF_LITE_STRIP_ERROR_STRINGS: it compiles out TFLM's per-operator profiling hook (tp-profile)
    CPPDEFINES=["TF_LITE_STATIC_MEMORY"],
    CXXFLAGS=["-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"],
)
env.BuildSources("$BUILD_DIR/tinyperf_generated", generated, "-<*> +<model_data.cc>")  # noqa: F821
env.BuildSources("$BUILD_DIR/tflm", str(tflm), "-<*> +<tensorflow/> +<signal/> -<**/*_test.cc>")  # noqa: F821
