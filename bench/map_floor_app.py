"""The second floor for ``bench/map_time.py``: the bare one-polygon map inside the dashboard's frame.

The same page setup and sidebar navigation as ``app.py`` (``dashboard/frame.py``), with
``bench/map_floor_page.py`` at the Map page's address (``/map``). Against it, a page's ratio is the cost
of what the page draws; against the bare page alone, it also counts the frame (the sidebar, and the
Streamlit client trying ``/map/_stcore/health`` before ``/_stcore/health`` on any page but the home page).
"""

from pathlib import Path

from dashboard import frame

frame.set_up()
frame.navigation({"pages/map.py": Path(__file__).with_name("map_floor_page.py")}).run()
