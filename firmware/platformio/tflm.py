"""PlatformIO pre-script: compiles what `tinyperf build` chose for this model, the same list CMake compiles.

`tinyperf build --builder platformio` writes TINYPERF_GENERATED_DIR: tp_config.h, model_data.cc and
engine_sources.json (TFLM's own sources.inc, the model's kernels, reference or CMSIS-NN, from pinned and
verified trees). This script only reads that list, so the two builders cannot drift apart, and it
downloads nothing itself.
"""

import json
import os
from collections import defaultdict
from pathlib import Path

Import("env")  # noqa: F821  (PlatformIO's SCons namespace)


def fail(message):
    import sys

    sys.stderr.write(f"tinyperf: {message}\n")
    env.Exit(1)  # noqa: F821


generated = os.environ.get("TINYPERF_GENERATED_DIR")
listing = Path(generated or ".") / "engine_sources.json"
if not generated or not listing.is_file():
    fail("TINYPERF_GENERATED_DIR must name a folder with engine_sources.json; run `tinyperf build --engine tflm "
         "--builder platformio`, which writes it and sets this variable")
engine = json.loads(listing.read_text(encoding="utf-8"))
defines = [tuple(d.split("=", 1)) if "=" in d else d for d in engine["defines"]]
env.Append(  # noqa: F821
    CPPPATH=[generated, *engine["includes"]],
    CPPDEFINES=defines,
    CXXFLAGS=["-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics", "-Wno-unused-parameter"],
)
env.BuildSources("$BUILD_DIR/tinyperf_generated", generated, "-<*> +<model_data.cc>")  # noqa: F821
by_folder = defaultdict(list)
for source in engine["sources"]:
    by_folder[str(Path(source).parent)].append(Path(source).name)
for index, (folder, names) in enumerate(sorted(by_folder.items())):
    only = "-<*> " + " ".join(f"+<{name}>" for name in names)
    env.BuildSources(f"$BUILD_DIR/tflm/{index}", folder, only)  # noqa: F821
