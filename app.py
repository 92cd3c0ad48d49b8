"""Chicago Digital Equity Dashboard: entry point (``streamlit run app.py``); the pages are listed in
``dashboard/frame.py``."""

from dashboard import frame

frame.set_up()
frame.navigation().run()
