"""Your Streamlit app: hubify's preset supplies the port, address, base URL and XSRF settings."""
import streamlit as st

st.title("Hello from Streamlit behind hubify")
st.slider("pick a number", 0, 100, 42)
