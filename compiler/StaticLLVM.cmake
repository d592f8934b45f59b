# Debian's MLIR package links its static libraries against the LLVM dylib (the
# imported target `LLVM`). packjit_compiler must carry LLVM inside itself, so
# every imported MLIR target's `LLVM` dependency is rewritten to LLVM's static
# component libraries.
function(packjit_static_mlir_libs out)
  llvm_map_components_to_libnames(llvm_static
    Core Support Analysis TransformUtils Passes IPO Target MC MCParser
    BitReader BitWriter Linker IRReader AsmParser Object TargetParser
    FrontendOpenMP FrontendOffloading NVPTXCodeGen NVPTXDesc NVPTXInfo
    NVPTXAsmParser)
  list(REMOVE_ITEM llvm_static LLVMNVPTXAsmParser)
  get_directory_property(imported IMPORTED_TARGETS)
  foreach(target IN LISTS imported)
    if(NOT target MATCHES "^MLIR")
      continue()
    endif()
    get_target_property(deps ${target} INTERFACE_LINK_LIBRARIES)
    if(deps AND "LLVM" IN_LIST deps)
      list(TRANSFORM deps REPLACE "^LLVM$" "${llvm_static}")
      set_target_properties(${target} PROPERTIES INTERFACE_LINK_LIBRARIES "${deps}")
    endif()
  endforeach()
  set(${out} ${ARGN} PARENT_SCOPE)
endfunction()
