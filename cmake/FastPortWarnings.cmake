# Warnings are errors everywhere; sanitizers come from FP_SANITIZE.
add_compile_options(-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
                    -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter)
add_compile_definitions(_GNU_SOURCE)

if(FP_SANITIZE)
  add_compile_options(-fsanitize=${FP_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${FP_SANITIZE})
endif()
