from pydantic import BaseModel


class Settings(BaseModel):
    path: str = "/tmp"
