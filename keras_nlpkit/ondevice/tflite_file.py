from ai_edge_litert import schema_py_generated as schema

"""What a `.tflite` file holds (operators, signatures), read without running it."""


def describe_tflite(content):
    """Operators and signatures of a `.tflite` flatbuffer (bytes), without running it.

    Returns `{"ops": sorted operator names, "flex_ops": [...], "custom_ops":
    [...], "signatures": [...]}`. Flex (Select TF) ops are custom ops whose name
    starts with `Flex`; other custom ops are listed under `custom_ops`. Raises
    `ValueError` when `content` is not a TFLite model.
    """
    if len(content) < 8 or bytes(content[4:8]) != b"TFL3":
        raise ValueError("Not a TFLite model (no TFL3 identifier)")
    try:
        model = schema.Model.GetRootAsModel(content, 0)
        names = {
            code: name
            for name, code in vars(schema.BuiltinOperator).items()
            if not name.startswith("_")
        }
        ops = set()
        custom = set()
        for i in range(model.OperatorCodesLength()):
            code = model.OperatorCodes(i)
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            if builtin == schema.BuiltinOperator.CUSTOM:
                custom.add(code.CustomCode().decode())
            else:
                ops.add(names[builtin])
        signatures = [
            model.SignatureDefs(i).SignatureKey().decode()
            for i in range(model.SignatureDefsLength())
        ]
    except Exception as error:  # a truncated or corrupt flatbuffer
        raise ValueError(f"Corrupt TFLite model ({type(error).__name__}: {error})") from None
    flex = sorted(op for op in custom if op.startswith("Flex"))
    return {
        "ops": sorted(ops | custom),
        "flex_ops": flex,
        "custom_ops": sorted(custom - set(flex)),
        "signatures": sorted(signatures),
    }
