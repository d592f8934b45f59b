# lit configuration of packjit's compiler tests: the *.test files drive
# `packjit compile --emit <stage>` and check the text with FileCheck; the
# passes/ tests run one pass with packjit-opt.
import os

import lit.formats

config.name = "packjit-compiler"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt", "inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.packjit_binary_dir, "tests", "lit")
config.environment["PATH"] = os.pathsep.join(
    [config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.substitutions.append(("%packjit", config.packjit_cli))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "inputs")))
# RUN lines name packjit-opt as a tool, as MLIR's do: the bare word (not part
# of a path or an option) becomes the built tool's path.
if config.packjit_opt:
    config.available_features.add("packjit-opt")
    config.substitutions.append(
        (r"(?<![\w/.-])packjit-opt(?![\w/.-])", config.packjit_opt))
# `packjit aot` assembles cubins with the ptxas the build was configured
# with, and %ptxas assembles PTX in tests; tests that need it say REQUIRES:
# ptxas (lit reports them unsupported elsewhere).
if config.packjit_ptxas and os.access(config.packjit_ptxas, os.X_OK):
    config.available_features.add("ptxas")
    config.environment["PACKJIT_PTXAS"] = config.packjit_ptxas
    config.substitutions.append(("%ptxas", config.packjit_ptxas))
