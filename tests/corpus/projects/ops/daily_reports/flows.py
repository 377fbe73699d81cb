from factory import make_either, make_flow, make_loader

from constants_local import PREFIX

daily_sales = make_flow("sales", "0 6 * * *")
daily_orders = make_flow("orders", "0 7 * * *", limit=50)
daily_refunds = make_flow("refunds", "0 8 * * *", region="us")
daily_stock = make_flow(topic="stock", cron="0 9 * * *", limit=5, region="apac")
daily_returns = make_flow("returns", "30 6 * * *")
daily_payments = make_flow("payments", "0 5 * * *", 100)
daily_invoices = make_flow(f"{PREFIX}-invoices", "0 4 * * *")
daily_leads = make_flow("leads", "15 6 * * *")
daily_churn = make_flow("churn", "45 6 * * *", 7, "eu")
load_orders = make_loader("load-orders")
load_events = make_loader(name=f"{PREFIX}-events", retries=5)
maybe = make_either("either", fancy=True)  # which flow: only running it tells
