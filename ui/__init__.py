"""The Streamlit app's pages and components. All computation lives in twin/ and optimizer/."""
