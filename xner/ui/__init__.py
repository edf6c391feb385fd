"""Everything of the app that knows Streamlit or Plotly: what the pages share (``support``: the error boundary, the
store, the reviewer), escaped rendering (``render``), forms, charts, figures and file glue, and the sections the
pages draw. Services never import this package; its modules import Streamlit themselves, this file does not.
"""
