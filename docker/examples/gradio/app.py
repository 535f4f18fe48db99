"""Your Gradio app: GRADIO_SERVER_NAME, GRADIO_SERVER_PORT and GRADIO_ROOT_PATH come from hubify."""
import gradio as gr


def double(x: float) -> float:
    return 2 * x


gr.Interface(fn=double, inputs="number", outputs="number").launch()
