{
  "targets": [
    {
      "target_name": "athanor_blas",
      "sources": ["athanor_blas.c"],
      "cflags": ["-O2"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-lopenblas"] }],
        ["OS=='mac'", { "libraries": ["-framework Accelerate"] }]
      ]
    }
  ]
}
