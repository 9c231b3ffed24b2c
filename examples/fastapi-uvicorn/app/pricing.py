"""Pricing rules, the part worth covering."""
from pydantic import BaseModel

UNIT_PRICES = {'apple': 30, 'pear': 45}


class Quote(BaseModel):
    sku: str
    quantity: int
    total: int
    served_by: int


def price(sku: str, quantity: int) -> int:
    unit = UNIT_PRICES.get(sku, 100)
    if quantity >= 10:
        return unit * quantity * 9 // 10  # bulk discount
    return unit * quantity
