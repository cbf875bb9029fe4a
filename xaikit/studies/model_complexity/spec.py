"""Specification of study 1 (paper 003, Cedro & Chlebus 2024)."""
from .._spec import REPLICATION_PARAM, Param, Study, register_study

STUDY = register_study(Study(
    name="01_model_complexity",
    title="Study 1 — does a more complex model explain itself better?",
    package="model_complexity",
    paper="cedro2024beyond",
    published=("table1_parameters", "table2_performance", "table3_rra", "table4_par", "table5_kruskal",
               "posthoc_mannwhitney"),
    params={
        "dataset": Param("choice", ("chest_covid", "covid-qu-ex")),
        "difficulty": Param("choice", ("easy", "default", "hard"), help="of the phantom; ignored for real data"),
        "archs": Param("list", registry="models", help="the compared models (the model registry)"),
        "methods": Param("list", registry="explainers", help="attribution methods (the explainer registry)"),
        "ig_steps": Param("int", min_value=1, max_value=1000),
        "ig_method": Param("choice", ("riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle",
                                      "gausslegendre"), help="paper 003: riemann_trapezoid"),
        "gs_samples": Param("int", min_value=1, max_value=1000),
        "gs_stdevs": Param("float", min_value=0.0, max_value=10.0),
        "n_images": Param("int", min_value=20),
        "image_size": Param("int", min_value=32, max_value=1024),
        "epochs": Param("int", min_value=1, max_value=1000),
        "batch_size": Param("int", min_value=1, max_value=4096),
        "optimizer": Param("choice", ("sgd", "adam")),
        "lr": Param("float", min_value=0.0, max_value=10.0),
        "momentum": Param("float", min_value=0.0, max_value=1.0),
        "n_explain": Param("int", min_value=1),
        "n_sanity": Param("int", min_value=1, max_value=64),
        "n_boot": Param("int", min_value=100, max_value=100_000),
        "replication_dir": REPLICATION_PARAM,
    },
))
