from pydantic import BaseModel


class Settings(BaseModel):
    limit: int = 10
