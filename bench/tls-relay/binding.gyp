{
  "targets": [
    {
      "target_name": "tls_relay",
      "sources": ["relay.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-O2", "<!@(pkg-config --cflags openssl)"],
      "libraries": ["<!@(pkg-config --libs openssl)"]
    }
  ]
}
