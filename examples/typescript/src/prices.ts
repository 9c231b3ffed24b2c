export interface LineItem {
  sku: string
  unitCents: number
  quantity: number
}

export type Discount = { kind: 'percent'; value: number } | { kind: 'fixed'; cents: number }

/** Total of a basket in cents, after an optional discount, never below zero. */
export function totalCents(items: readonly LineItem[], discount?: Discount): number {
  const gross = items.reduce((sum, item) => sum + item.unitCents * item.quantity, 0)
  if (!discount) return gross
  switch (discount.kind) {
    case 'percent':
      return Math.round(gross * (1 - discount.value / 100))
    case 'fixed':
      return Math.max(0, gross - discount.cents)
  }
}
