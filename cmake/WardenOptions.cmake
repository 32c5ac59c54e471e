# ccache (a Debian package) when present: the 2-core CI machine rebuilds the same objects for every submission.
option(WARDEN_CCACHE "Compile through ccache when it is installed" ON)
find_program(WARDEN_CCACHE_PROGRAM ccache)
if(WARDEN_CCACHE AND WARDEN_CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER ${WARDEN_CCACHE_PROGRAM})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${WARDEN_CCACHE_PROGRAM})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${WARDEN_CCACHE_PROGRAM})
endif()

# Compiler flags shared by every Warden target, applied through the `warden_flags` interface library
# so third-party code we only link against is never compiled with our -Werror.
add_library(warden_flags INTERFACE)
target_compile_options(warden_flags INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wno-missing-field-initializers>)
if(WARDEN_WERROR)
  target_compile_options(warden_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()
if(WARDEN_SANITIZE)
  # -fno-sanitize-recover turns every UBSan report into a test failure instead of a log line.
  target_compile_options(warden_flags INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer>)
  # GCC 12 reports false maybe-uninitialized warnings inside libstdc++ (std::regex, std::function) once
  # ASan instrumentation changes inlining; the sanitizers themselves check what this warning would.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(warden_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized>)
  endif()
  target_link_options(warden_flags INTERFACE -fsanitize=address,undefined)
endif()
if(WARDEN_FUZZ)
  target_compile_options(warden_flags INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer>)
  target_link_options(warden_flags INTERFACE -fsanitize=address,undefined)
endif()
target_compile_definitions(warden_flags INTERFACE WARDEN_VERSION="${PROJECT_VERSION}")

# warden_add_library(NAME SOURCES... [DEPS ...]): a static subsystem library whose public headers are
# included by their folder path from the repository root (e.g. #include "audit/audit.h").
function(warden_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC warden_flags ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# Tests: one Catch2 main compiled once, a support library (temporary dirs, the shared folder), and
# warden_add_test_suite(NAME SOURCES... [DEPS ...]) which builds a suite and registers each TEST_CASE with ctest.
if(WARDEN_TESTS)
  find_package(Catch2 2 REQUIRED)
  include(Catch)
  add_library(warden_catch_main OBJECT ${CMAKE_SOURCE_DIR}/tests/support/catch_main.cpp)
  target_link_libraries(warden_catch_main PUBLIC Catch2::Catch2 warden_flags)
  add_library(warden_test_support STATIC ${CMAKE_SOURCE_DIR}/tests/support/test_support.cpp
    ${CMAKE_SOURCE_DIR}/tests/support/golden.cpp)
  target_include_directories(warden_test_support PUBLIC ${CMAKE_SOURCE_DIR})
  target_link_libraries(warden_test_support PUBLIC Catch2::Catch2 warden_flags)
  target_compile_definitions(warden_test_support PRIVATE
    WARDEN_SHARED_DIR="${WARDEN_SHARED_DIR}"
    WARDEN_BINARY_DIR="${CMAKE_BINARY_DIR}")
endif()

function(warden_add_test_suite name)
  if(NOT WARDEN_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  # A ';' in a test name splits it into CMake list items: catch_discover_tests then registers names that match
  # nothing, and those ctest entries pass without running the test. Refuse such names at configure time.
  foreach(src IN LISTS ARG_SOURCES)
    get_filename_component(src_path "${src}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    file(STRINGS "${src_path}" bad_names REGEX "TEST_CASE\\(\"[^\"]*;")
    if(bad_names)
      message(FATAL_ERROR "${src_path}: a TEST_CASE name contains ';', which ctest would split so the test never "
                          "runs; use ',' or ' -' instead: ${bad_names}")
    endif()
  endforeach()
  add_executable(${name} ${ARG_SOURCES} $<TARGET_OBJECTS:warden_catch_main>)
  target_link_libraries(${name} PRIVATE warden_test_support Catch2::Catch2 warden_flags ${ARG_DEPS})
  # Each TEST_CASE becomes one ctest test; the suite name is its label so `ctest -L` can pick a subsystem.
  catch_discover_tests(${name} TEST_PREFIX "${name}:" PROPERTIES LABELS ${name}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endfunction()

# warden_add_fuzzer(NAME SOURCES... DEPS ...): a libFuzzer target (configure with CXX=clang++ -DWARDEN_FUZZ=ON).
# bench/fuzz/run_fuzzers.sh builds and runs them all.
function(warden_add_fuzzer name)
  if(NOT WARDEN_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE warden_flags ${ARG_DEPS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
endfunction()
