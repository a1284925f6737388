# Every tests/unit/test_*.c and tests/conformance/test_*.c is one cmocka
# executable and one ctest; every tests/e2e/*.sh is one ctest that drives the
# real binary. Adding a test never needs an edit here.

if(NOT CMOCKA_FOUND)
  message(WARNING "cmocka not found: unit tests are not built (run `make test`)")
  return()
endif()

set(SLUICE_FIXTURES "${CMAKE_SOURCE_DIR}/../shared/fixtures")

file(GLOB SUPPORT_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/support/*.c)
add_library(sluice_testsupport STATIC ${SUPPORT_SOURCES})
target_link_libraries(sluice_testsupport PUBLIC sluice_cli PkgConfig::CMOCKA)
target_include_directories(sluice_testsupport PUBLIC ${CMAKE_SOURCE_DIR}/tests/support)

file(GLOB UNIT_TESTS CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c
     ${CMAKE_SOURCE_DIR}/tests/conformance/test_*.c)
foreach(src ${UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE sluice_testsupport)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "SLUICE_FIXTURES=${SLUICE_FIXTURES};SLUICE_SOURCE_DIR=${CMAKE_SOURCE_DIR};SLUICE_BIN=$<TARGET_FILE:sluice>;NO_COLOR=;SLUICE_OPERATOR=tester"
    TIMEOUT 300)
endforeach()

file(GLOB E2E_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/e2e/test_*.sh)
foreach(script ${E2E_TESTS})
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME e2e_${name} COMMAND bash ${script})
  set_tests_properties(e2e_${name} PROPERTIES
    ENVIRONMENT "SLUICE_BIN=$<TARGET_FILE:sluice>;SLUICE_SOURCE_DIR=${CMAKE_SOURCE_DIR};SLUICE_FIXTURES=${SLUICE_FIXTURES};SLUICE_BUILD_DIR=${CMAKE_BINARY_DIR}"
    TIMEOUT 600)
endforeach()
