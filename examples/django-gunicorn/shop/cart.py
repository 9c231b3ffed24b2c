"""Cart rules, the part worth covering."""

PRICES = {'apple': 30, 'pear': 45}


def total(items):
    """Sum of the cart in cents; unknown items are an error, 5 or more items get 5% off."""
    cents = 0
    for name, count in items.items():
        if name not in PRICES:
            raise KeyError(name)
        cents += PRICES[name] * count
    if sum(items.values()) >= 5:
        cents = cents * 95 // 100
    return cents
