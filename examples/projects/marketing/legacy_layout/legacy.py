from prefect import flow


@flow
def legacy_export(target: str = "s3://bucket/export") -> str:
    return f"exported to {target}"
