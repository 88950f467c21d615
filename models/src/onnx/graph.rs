//! A graph under construction: nodes, weights and the graph's inputs and outputs, written as
//! ONNX's protobuf messages (from the `onnx-protobuf` crate).

use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::type_proto;
use onnx_protobuf::{AttributeProto, GraphProto, NodeProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto};
use protobuf::{EnumOrUnknown, MessageField};

/// The element type of a graph input or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    /// `tensor(float)`.
    F32,
    /// `tensor(double)`.
    F64,
    /// `tensor(int32)`.
    I32,
    /// `tensor(int64)`.
    I64,
}

impl Elem {
    fn data_type(self) -> DataType {
        match self {
            Self::F32 => DataType::FLOAT,
            Self::F64 => DataType::DOUBLE,
            Self::I32 => DataType::INT32,
            Self::I64 => DataType::INT64,
        }
    }

    /// The type's number, as a `Cast` node's `to` attribute takes it.
    pub fn code(self) -> i64 {
        i64::from(self.data_type() as i32)
    }
}

/// One dimension of a graph input or output: a fixed size or a named, free one (`batch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// Known when the graph is written.
    Fixed(usize),
    /// Given by the caller's tensors; equal names are equal sizes.
    Named(&'static str),
}

/// A node's attribute, by value.
#[derive(Debug, Clone)]
pub enum Attr {
    /// `INT`.
    Int(i64),
    /// `INTS`.
    Ints(Vec<i64>),
    /// `STRING`.
    String(&'static str),
    /// `STRINGS`.
    Strings(Vec<&'static str>),
    /// `GRAPH` (a `Scan`'s body).
    Graph(Box<GraphProto>),
}

/// A graph being built. Every value is named by the builder (`{scope}{n}`), so a body graph
/// built with another scope never shadows a name of the graph around it.
#[derive(Debug)]
pub struct Graph {
    scope: String,
    next: usize,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
}

impl Graph {
    /// An empty graph whose values are named `{scope}0`, `{scope}1`, ….
    pub fn new(scope: &str) -> Self {
        Self {
            scope: scope.to_string(),
            next: 0,
            nodes: Vec::new(),
            initializers: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    fn fresh(&mut self, hint: &str) -> String {
        self.next += 1;
        format!("{}{}_{hint}", self.scope, self.next)
    }

    /// A node of type `op` with one output, whose name it returns.
    pub fn op(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> String {
        self.ops(op, inputs, 1, attrs).pop().expect("one output")
    }

    /// A node of type `op` with `outputs` outputs, whose names it returns in order.
    pub fn ops(&mut self, op: &str, inputs: &[&str], outputs: usize, attrs: Vec<(&str, Attr)>) -> Vec<String> {
        let names: Vec<String> = (0..outputs).map(|_| self.fresh(&op.to_ascii_lowercase())).collect();
        self.nodes.push(NodeProto {
            op_type: op.to_string(),
            name: names[0].clone(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: names.clone(),
            attribute: attrs.into_iter().map(|(name, value)| attribute(name, value)).collect(),
            ..Default::default()
        });
        names
    }

    /// An `f32` weight of shape `dims` (row-major `values`).
    pub fn f32(&mut self, hint: &str, dims: &[usize], values: Vec<f32>) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.weight(hint, dims, DataType::FLOAT, raw, values.len())
    }

    /// An `f64` weight of shape `dims`.
    pub fn f64(&mut self, hint: &str, dims: &[usize], values: Vec<f64>) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.weight(hint, dims, DataType::DOUBLE, raw, values.len())
    }

    /// An `i64` constant of shape `dims`.
    pub fn i64(&mut self, hint: &str, dims: &[usize], values: Vec<i64>) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.weight(hint, dims, DataType::INT64, raw, values.len())
    }

    /// An `i64` scalar constant.
    pub fn scalar(&mut self, value: i64) -> String {
        self.i64("scalar", &[], vec![value])
    }

    fn weight(&mut self, hint: &str, dims: &[usize], data_type: DataType, raw_data: Vec<u8>, len: usize) -> String {
        assert_eq!(dims.iter().product::<usize>(), len, "{hint}: {len} values for the shape {dims:?}");
        let name = self.fresh(hint);
        self.initializers.push(TensorProto {
            name: name.clone(),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: data_type as i32,
            raw_data,
            ..Default::default()
        });
        name
    }

    /// Declares a graph input named `name`.
    pub fn input(&mut self, name: &str, elem: Elem, dims: &[Dim], doc: &str) -> String {
        self.inputs.push(value_info(name, elem, Some(dims), doc));
        name.to_string()
    }

    /// Declares a body graph's input (its shape left free).
    pub fn body_input(&mut self, hint: &str, elem: Elem) -> String {
        let name = self.fresh(hint);
        self.inputs.push(value_info(&name, elem, None, ""));
        name
    }

    /// Makes the value `value` a graph output named `name`.
    pub fn output(&mut self, value: &str, name: &str, elem: Elem, dims: &[Dim], doc: &str) {
        self.op_named("Identity", &[value], name);
        self.outputs.push(value_info(name, elem, Some(dims), doc));
    }

    /// Makes `value` a body graph's output (its shape left free).
    pub fn body_output(&mut self, value: &str, elem: Elem) {
        self.outputs.push(value_info(value, elem, None, ""));
    }

    fn op_named(&mut self, op: &str, inputs: &[&str], output: &str) {
        self.nodes.push(NodeProto {
            op_type: op.to_string(),
            name: output.to_string(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            ..Default::default()
        });
    }

    /// The finished graph.
    pub fn finish(self, name: &str, doc: &str) -> GraphProto {
        GraphProto {
            name: name.to_string(),
            doc_string: doc.to_string(),
            node: self.nodes,
            initializer: self.initializers,
            input: self.inputs,
            output: self.outputs,
            ..Default::default()
        }
    }
}

fn attribute(name: &str, value: Attr) -> AttributeProto {
    let mut a = AttributeProto { name: name.to_string(), ..Default::default() };
    let kind = match value {
        Attr::Int(i) => {
            a.i = i;
            AttributeType::INT
        }
        Attr::Ints(ints) => {
            a.ints = ints;
            AttributeType::INTS
        }
        Attr::String(string) => {
            a.s = string.as_bytes().to_vec();
            AttributeType::STRING
        }
        Attr::Strings(strings) => {
            a.strings = strings.iter().map(|s| s.as_bytes().to_vec()).collect();
            AttributeType::STRINGS
        }
        Attr::Graph(g) => {
            a.g = MessageField(Some(g));
            AttributeType::GRAPH
        }
    };
    a.type_ = EnumOrUnknown::new(kind);
    a
}

fn value_info(name: &str, elem: Elem, dims: Option<&[Dim]>, doc: &str) -> ValueInfoProto {
    let shape = dims.map(|dims| TensorShapeProto {
        dim: dims
            .iter()
            .map(|d| Dimension {
                value: Some(match *d {
                    Dim::Fixed(n) => dimension::Value::DimValue(n as i64),
                    Dim::Named(name) => dimension::Value::DimParam(name.to_string()),
                }),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    });
    let tensor = type_proto::Tensor {
        elem_type: elem.data_type() as i32,
        shape: shape.map_or_else(MessageField::none, MessageField::some),
        ..Default::default()
    };
    ValueInfoProto {
        name: name.to_string(),
        type_: MessageField::some(TypeProto {
            value: Some(type_proto::Value::TensorType(tensor)),
            ..Default::default()
        }),
        doc_string: doc.to_string(),
        ..Default::default()
    }
}

/// The ONNX operator set the graphs are written for.
pub const OPSET: i64 = 17;

/// The ONNX IR version of the files (the one that goes with [`OPSET`]).
pub const IR_VERSION: i64 = 8;

/// A finished model: one graph, its weights inside it.
#[derive(Debug, Clone)]
pub struct Model {
    graph: GraphProto,
}

impl Model {
    /// The model of a finished graph.
    pub fn new(graph: GraphProto) -> Self {
        Self { graph }
    }

    /// The graph's inputs' names, in order.
    pub fn inputs(&self) -> Vec<&str> {
        self.graph.input.iter().map(|v| v.name.as_str()).collect()
    }

    /// The graph's outputs' names, in order.
    pub fn outputs(&self) -> Vec<&str> {
        self.graph.output.iter().map(|v| v.name.as_str()).collect()
    }

    /// The `.onnx` file's bytes, with `metadata` as its `metadata_props`.
    pub fn to_bytes(&self, metadata: &std::collections::BTreeMap<String, String>) -> Vec<u8> {
        use protobuf::Message;
        let model = onnx_protobuf::ModelProto {
            ir_version: IR_VERSION,
            opset_import: vec![onnx_protobuf::OperatorSetIdProto {
                domain: String::new(),
                version: OPSET,
                ..Default::default()
            }],
            producer_name: "seqlab".into(),
            producer_version: env!("CARGO_PKG_VERSION").into(),
            doc_string: self.graph.doc_string.clone(),
            graph: MessageField::some(self.graph.clone()),
            metadata_props: metadata
                .iter()
                .map(|(key, value)| onnx_protobuf::StringStringEntryProto {
                    key: key.clone(),
                    value: value.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        model.write_to_bytes().expect("an in-memory protobuf message always encodes")
    }
}
