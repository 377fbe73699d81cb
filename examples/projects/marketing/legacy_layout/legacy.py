from prefect import flow


@flow(log_prints=True)
def legacy_export(target: str = "s3://bucket/export") -> str:
    message = f"exported to {target}"
    print(message)
    return message
