# Issue 11's attacks against a real fastport-server on each transport:
# slowloris connections closed by the frame timeout, never-reading ones by
# the send timeout, counted by the server; fp-abuse is the attacker. Linux
# only, like fp-abuse (not in the Windows list of tests/CMakeLists.txt).
if(TARGET fp-abuse AND TARGET fastport-server)
  find_program(FP_BASH bash REQUIRED)
  get_property(fp_abuse_transports GLOBAL PROPERTY FP_TRANSPORT_TARGETS)
  foreach(mode slowloris never-read)
    string(REPLACE "-" "_" mode_name ${mode})
    foreach(transport IN LISTS fp_abuse_transports)
      add_test(NAME abuse_${mode_name}_${transport}
        COMMAND ${FP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/abuse_closes.sh ${mode}
                $<TARGET_FILE:fastport-server> $<TARGET_FILE:fp-abuse> $<TARGET_FILE:fp-echo-probe>
                $<TARGET_FILE:fp-transport-probe> ${CMAKE_BINARY_DIR}/${FP_TRANSPORT_SUBDIR} ${transport})
      # 77: the transport cannot run here, or (never-read) the server has no --send-timeout.
      set_tests_properties(abuse_${mode_name}_${transport} PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77)
    endforeach()
  endforeach()
endif()
