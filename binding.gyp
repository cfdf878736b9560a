{
  "targets": [
    {
      "target_name": "meshlet",
      "sources": ["native/addon.cc", "native/frontdoor_napi.cc", "native/histogram_napi.cc", "native/inbound_policy_napi.cc", "native/frontdoor/frontdoor.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-fvisibility=hidden", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-O2"]
    }
  ]
}
