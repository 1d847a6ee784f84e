package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The subset of onnx.proto this package reads and writes, as plain
// structs. Field numbers are the schema's; a field this package has no
// use for is skipped when reading (its bytes are still bounds-checked by
// protowire) and never written. Fields whose mere presence changes what a
// model means (functions, training information, sparse initializers,
// subgraphs, external data, segments) are recorded as flags, so that the
// importer can refuse them instead of silently ignoring them.

// Field numbers of ModelProto.
const (
	fModelIRVersion       protowire.Number = 1
	fModelProducerName    protowire.Number = 2
	fModelProducerVersion protowire.Number = 3
	fModelDomain          protowire.Number = 4
	fModelModelVersion    protowire.Number = 5
	fModelDocString       protowire.Number = 6
	fModelGraph           protowire.Number = 7
	fModelOpsetImport     protowire.Number = 8
	fModelMetadataProps   protowire.Number = 14
)

// Field numbers of GraphProto.
const (
	fGraphNode              protowire.Number = 1
	fGraphName              protowire.Number = 2
	fGraphInitializer       protowire.Number = 5
	fGraphDocString         protowire.Number = 10
	fGraphInput             protowire.Number = 11
	fGraphOutput            protowire.Number = 12
	fGraphSparseInitializer protowire.Number = 15
)

// Field numbers of NodeProto.
const (
	fNodeInput     protowire.Number = 1
	fNodeOutput    protowire.Number = 2
	fNodeName      protowire.Number = 3
	fNodeOpType    protowire.Number = 4
	fNodeAttribute protowire.Number = 5
	fNodeDocString protowire.Number = 6
	fNodeDomain    protowire.Number = 7
)

// Field numbers of AttributeProto.
const (
	fAttrName          protowire.Number = 1
	fAttrF             protowire.Number = 2
	fAttrI             protowire.Number = 3
	fAttrS             protowire.Number = 4
	fAttrT             protowire.Number = 5
	fAttrG             protowire.Number = 6
	fAttrFloats        protowire.Number = 7
	fAttrInts          protowire.Number = 8
	fAttrStrings       protowire.Number = 9
	fAttrTensors       protowire.Number = 10
	fAttrGraphs        protowire.Number = 11
	fAttrTypeProto     protowire.Number = 14
	fAttrTypeProtos    protowire.Number = 15
	fAttrType          protowire.Number = 20
	fAttrRefAttrName   protowire.Number = 21
	fAttrSparseTensor  protowire.Number = 22
	fAttrSparseTensors protowire.Number = 23
)

// AttributeProto.AttributeType values.
const (
	attrFloat  int32 = 1
	attrInt    int32 = 2
	attrString int32 = 3
	attrTensor int32 = 4
	attrFloats int32 = 6
	attrInts   int32 = 7
)

// Field numbers of TensorProto.
const (
	fTensorDims         protowire.Number = 1
	fTensorDataType     protowire.Number = 2
	fTensorSegment      protowire.Number = 3
	fTensorFloatData    protowire.Number = 4
	fTensorInt32Data    protowire.Number = 5
	fTensorInt64Data    protowire.Number = 7
	fTensorName         protowire.Number = 8
	fTensorRawData      protowire.Number = 9
	fTensorExternalData protowire.Number = 13
	fTensorDataLocation protowire.Number = 14
)

// TensorProto.DataType values this package handles by name; the rest are
// only named in errors (dataTypeName).
const (
	dtFloat int32 = 1
	dtInt32 int32 = 6
	dtInt64 int32 = 7
	dtBool  int32 = 9
)

// TensorProto.DataLocation: EXTERNAL means the bytes live in another file.
const locationExternal int32 = 1

// Field numbers of ValueInfoProto, TypeProto, TypeProto.Tensor,
// TensorShapeProto and TensorShapeProto.Dimension.
const (
	fValueInfoName    protowire.Number = 1
	fValueInfoType    protowire.Number = 2
	fTypeTensorType   protowire.Number = 1
	fTensorTypeElem   protowire.Number = 1
	fTensorTypeShape  protowire.Number = 2
	fShapeDim         protowire.Number = 1
	fDimValue         protowire.Number = 1
	fDimParam         protowire.Number = 2
	fOpsetDomain      protowire.Number = 1
	fOpsetVersion     protowire.Number = 2
	fStringEntryKey   protowire.Number = 1
	fStringEntryValue protowire.Number = 2
	fTypeSequenceType protowire.Number = 4
	fTypeMapType      protowire.Number = 5
	fTypeSparseTensor protowire.Number = 8
	fTypeOptionalType protowire.Number = 9
)

// modelProto is ModelProto.
type modelProto struct {
	irVersion       int64
	producerName    string
	producerVersion string
	domain          string
	modelVersion    int64
	docString       string
	graph           *graphProto
	opsetImport     []opsetID
	metadataProps   []stringEntry
}

// opsetID is OperatorSetIdProto.
type opsetID struct {
	domain  string
	version int64
}

// stringEntry is StringStringEntryProto.
type stringEntry struct{ key, value string }

// graphProto is GraphProto. value_info is neither read nor written: it
// only annotates intermediate values, which the importer works out
// itself.
type graphProto struct {
	name         string
	nodes        []*nodeProto
	initializers []*tensorProto
	docString    string
	inputs       []*valueInfo
	outputs      []*valueInfo

	hasSparseInitializers bool // read only
}

// nodeProto is NodeProto.
type nodeProto struct {
	inputs    []string
	outputs   []string
	name      string
	opType    string
	domain    string
	attrs     []*attrProto
	docString string
}

// attrProto is AttributeProto, with the value kinds this package uses.
type attrProto struct {
	name        string
	typ         int32
	f           float32
	i           int64
	s           []byte
	t           *tensorProto
	floats      []float32
	ints        []int64
	refAttrName string

	// Read only: the attribute holds a graph, strings, tensors, a sparse
	// tensor or a type, none of which an MLP's operators take.
	hasOther bool
}

// tensorProto is TensorProto. A tensor read from a file keeps its data
// as found: rawData is a slice of the file's bytes, floatData, int32Data
// and int64Data are decoded, and nothing is checked against dims until the
// importer uses the tensor (tensor.go).
type tensorProto struct {
	dims      []int64
	dataType  int32
	name      string
	rawData   []byte
	floatData []float32
	int32Data []int32
	int64Data []int64

	// Read only.
	hasRawData      bool // raw_data was present, even if empty
	dataLocation    int32
	hasExternalData bool
	hasSegment      bool
}

// valueInfo is ValueInfoProto with a tensor type (or a note that the type
// is something else).
type valueInfo struct {
	name     string
	elemType int32
	hasShape bool
	shape    []dimension

	// Read only: the type is not a tensor (a sequence, map, optional
	// or sparse tensor) or is missing.
	notTensor bool
}

// dimension is TensorShapeProto.Dimension: a size, a symbolic name, or
// neither (unknown).
type dimension struct {
	value    int64
	hasValue bool
	param    string
}

// Encoding. Each message has a size method and an append method, so that
// a whole model is written into one buffer of exactly its size, with no
// copy of the weights per level of nesting.

func sizeString(n protowire.Number, s string) int {
	if s == "" {
		return 0
	}
	return protowire.SizeTag(n) + protowire.SizeBytes(len(s))
}

func appendString(b []byte, n protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func sizeVarint(n protowire.Number, v uint64) int {
	return protowire.SizeTag(n) + protowire.SizeVarint(v)
}

func appendVarint(b []byte, n protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, n, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func sizeMessage(n protowire.Number, size int) int {
	return protowire.SizeTag(n) + protowire.SizeBytes(size)
}

func appendMessageHeader(b []byte, n protowire.Number, size int) []byte {
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(size))
}

// packedVarintsSize returns the size of the payload of a packed repeated
// int64 field.
func packedVarintsSize(vs []int64) int {
	n := 0
	for _, v := range vs {
		n += protowire.SizeVarint(uint64(v))
	}
	return n
}

func sizePackedVarints(n protowire.Number, vs []int64) int {
	if len(vs) == 0 {
		return 0
	}
	return sizeMessage(n, packedVarintsSize(vs))
}

func appendPackedVarints(b []byte, n protowire.Number, vs []int64) []byte {
	if len(vs) == 0 {
		return b
	}
	b = appendMessageHeader(b, n, packedVarintsSize(vs))
	for _, v := range vs {
		b = protowire.AppendVarint(b, uint64(v))
	}
	return b
}

func sizePackedFloats(n protowire.Number, fs []float32) int {
	if len(fs) == 0 {
		return 0
	}
	return sizeMessage(n, 4*len(fs))
}

func appendPackedFloats(b []byte, n protowire.Number, fs []float32) []byte {
	if len(fs) == 0 {
		return b
	}
	b = appendMessageHeader(b, n, 4*len(fs))
	for _, f := range fs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

func (m *modelProto) size() int {
	n := sizeVarint(fModelIRVersion, uint64(m.irVersion)) +
		sizeString(fModelProducerName, m.producerName) +
		sizeString(fModelProducerVersion, m.producerVersion) +
		sizeString(fModelDomain, m.domain) +
		sizeString(fModelDocString, m.docString)
	if m.modelVersion != 0 {
		n += sizeVarint(fModelModelVersion, uint64(m.modelVersion))
	}
	if m.graph != nil {
		n += sizeMessage(fModelGraph, m.graph.size())
	}
	for _, o := range m.opsetImport {
		n += sizeMessage(fModelOpsetImport, o.size())
	}
	for _, e := range m.metadataProps {
		n += sizeMessage(fModelMetadataProps, e.size())
	}
	return n
}

func (m *modelProto) append(b []byte) []byte {
	b = appendVarint(b, fModelIRVersion, uint64(m.irVersion))
	b = appendString(b, fModelProducerName, m.producerName)
	b = appendString(b, fModelProducerVersion, m.producerVersion)
	b = appendString(b, fModelDomain, m.domain)
	if m.modelVersion != 0 {
		b = appendVarint(b, fModelModelVersion, uint64(m.modelVersion))
	}
	b = appendString(b, fModelDocString, m.docString)
	if m.graph != nil {
		b = appendMessageHeader(b, fModelGraph, m.graph.size())
		b = m.graph.append(b)
	}
	for _, o := range m.opsetImport {
		b = appendMessageHeader(b, fModelOpsetImport, o.size())
		b = o.append(b)
	}
	for _, e := range m.metadataProps {
		b = appendMessageHeader(b, fModelMetadataProps, e.size())
		b = e.append(b)
	}
	return b
}

func (o opsetID) size() int {
	// The version is written even when 0: the schema requires it.
	return sizeString(fOpsetDomain, o.domain) + sizeVarint(fOpsetVersion, uint64(o.version))
}

func (o opsetID) append(b []byte) []byte {
	b = appendString(b, fOpsetDomain, o.domain)
	return appendVarint(b, fOpsetVersion, uint64(o.version))
}

func (e stringEntry) size() int {
	return sizeString(fStringEntryKey, e.key) + sizeString(fStringEntryValue, e.value)
}

func (e stringEntry) append(b []byte) []byte {
	b = appendString(b, fStringEntryKey, e.key)
	return appendString(b, fStringEntryValue, e.value)
}

func (g *graphProto) size() int {
	n := sizeString(fGraphName, g.name) + sizeString(fGraphDocString, g.docString)
	for _, x := range g.nodes {
		n += sizeMessage(fGraphNode, x.size())
	}
	for _, t := range g.initializers {
		n += sizeMessage(fGraphInitializer, t.size())
	}
	for _, v := range g.inputs {
		n += sizeMessage(fGraphInput, v.size())
	}
	for _, v := range g.outputs {
		n += sizeMessage(fGraphOutput, v.size())
	}
	return n
}

func (g *graphProto) append(b []byte) []byte {
	for _, x := range g.nodes {
		b = appendMessageHeader(b, fGraphNode, x.size())
		b = x.append(b)
	}
	b = appendString(b, fGraphName, g.name)
	for _, t := range g.initializers {
		b = appendMessageHeader(b, fGraphInitializer, t.size())
		b = t.append(b)
	}
	b = appendString(b, fGraphDocString, g.docString)
	for _, v := range g.inputs {
		b = appendMessageHeader(b, fGraphInput, v.size())
		b = v.append(b)
	}
	for _, v := range g.outputs {
		b = appendMessageHeader(b, fGraphOutput, v.size())
		b = v.append(b)
	}
	return b
}

// Repeated strings are written even when empty: an empty input name is
// how ONNX marks an optional input as absent, and its position matters.
func sizeStrings(n protowire.Number, ss []string) int {
	s := 0
	for _, x := range ss {
		s += protowire.SizeTag(n) + protowire.SizeBytes(len(x))
	}
	return s
}

func appendStrings(b []byte, n protowire.Number, ss []string) []byte {
	for _, x := range ss {
		b = protowire.AppendTag(b, n, protowire.BytesType)
		b = protowire.AppendString(b, x)
	}
	return b
}

func (x *nodeProto) size() int {
	n := sizeStrings(fNodeInput, x.inputs) + sizeStrings(fNodeOutput, x.outputs) +
		sizeString(fNodeName, x.name) + sizeString(fNodeOpType, x.opType) +
		sizeString(fNodeDomain, x.domain) + sizeString(fNodeDocString, x.docString)
	for _, a := range x.attrs {
		n += sizeMessage(fNodeAttribute, a.size())
	}
	return n
}

func (x *nodeProto) append(b []byte) []byte {
	b = appendStrings(b, fNodeInput, x.inputs)
	b = appendStrings(b, fNodeOutput, x.outputs)
	b = appendString(b, fNodeName, x.name)
	b = appendString(b, fNodeOpType, x.opType)
	for _, a := range x.attrs {
		b = appendMessageHeader(b, fNodeAttribute, a.size())
		b = a.append(b)
	}
	b = appendString(b, fNodeDocString, x.docString)
	b = appendString(b, fNodeDomain, x.domain)
	return b
}

// An attribute writes the one value field its type selects (plus the
// type), as the schema requires from IR version 2 on.
func (a *attrProto) size() int {
	n := sizeString(fAttrName, a.name) + sizeVarint(fAttrType, uint64(a.typ)) +
		sizeString(fAttrRefAttrName, a.refAttrName)
	switch a.typ {
	case attrFloat:
		n += protowire.SizeTag(fAttrF) + 4
	case attrInt:
		n += sizeVarint(fAttrI, uint64(a.i))
	case attrString:
		n += protowire.SizeTag(fAttrS) + protowire.SizeBytes(len(a.s))
	case attrTensor:
		if a.t != nil {
			n += sizeMessage(fAttrT, a.t.size())
		}
	case attrFloats:
		n += sizePackedFloats(fAttrFloats, a.floats)
	case attrInts:
		n += sizePackedVarints(fAttrInts, a.ints)
	}
	return n
}

func (a *attrProto) append(b []byte) []byte {
	b = appendString(b, fAttrName, a.name)
	switch a.typ {
	case attrFloat:
		b = protowire.AppendTag(b, fAttrF, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case attrInt:
		b = appendVarint(b, fAttrI, uint64(a.i))
	case attrString:
		b = protowire.AppendTag(b, fAttrS, protowire.BytesType)
		b = protowire.AppendBytes(b, a.s)
	case attrTensor:
		if a.t != nil {
			b = appendMessageHeader(b, fAttrT, a.t.size())
			b = a.t.append(b)
		}
	case attrFloats:
		b = appendPackedFloats(b, fAttrFloats, a.floats)
	case attrInts:
		b = appendPackedVarints(b, fAttrInts, a.ints)
	}
	b = appendVarint(b, fAttrType, uint64(a.typ))
	return appendString(b, fAttrRefAttrName, a.refAttrName)
}

func (t *tensorProto) size() int {
	n := sizePackedVarints(fTensorDims, t.dims) + sizeVarint(fTensorDataType, uint64(t.dataType)) +
		sizePackedFloats(fTensorFloatData, t.floatData) + sizeString(fTensorName, t.name)
	if len(t.int32Data) > 0 {
		n += sizePackedVarints(fTensorInt32Data, widen(t.int32Data))
	}
	n += sizePackedVarints(fTensorInt64Data, t.int64Data)
	if t.rawData != nil || t.hasRawData {
		n += protowire.SizeTag(fTensorRawData) + protowire.SizeBytes(len(t.rawData))
	}
	if t.dataLocation != 0 {
		n += sizeVarint(fTensorDataLocation, uint64(t.dataLocation))
	}
	return n
}

func (t *tensorProto) append(b []byte) []byte {
	b = appendPackedVarints(b, fTensorDims, t.dims)
	b = appendVarint(b, fTensorDataType, uint64(t.dataType))
	b = appendPackedFloats(b, fTensorFloatData, t.floatData)
	if len(t.int32Data) > 0 {
		b = appendPackedVarints(b, fTensorInt32Data, widen(t.int32Data))
	}
	b = appendPackedVarints(b, fTensorInt64Data, t.int64Data)
	b = appendString(b, fTensorName, t.name)
	if t.rawData != nil || t.hasRawData {
		b = protowire.AppendTag(b, fTensorRawData, protowire.BytesType)
		b = protowire.AppendBytes(b, t.rawData)
	}
	if t.dataLocation != 0 {
		b = appendVarint(b, fTensorDataLocation, uint64(t.dataLocation))
	}
	return b
}

// widen converts int32 values to the int64 their varints encode (an int32
// field is sign-extended to 64 bits on the wire).
func widen(vs []int32) []int64 {
	out := make([]int64, len(vs))
	for i, v := range vs {
		out[i] = int64(v)
	}
	return out
}

// The type of a value is TypeProto{tensor_type: Tensor{elem_type, shape:
// TensorShapeProto{dim: [...]}}}.

func (d dimension) size() int {
	if d.hasValue {
		return sizeVarint(fDimValue, uint64(d.value))
	}
	return sizeString(fDimParam, d.param)
}

func (d dimension) append(b []byte) []byte {
	if d.hasValue {
		return appendVarint(b, fDimValue, uint64(d.value))
	}
	return appendString(b, fDimParam, d.param)
}

func (v *valueInfo) shapeSize() int {
	n := 0
	for _, d := range v.shape {
		n += sizeMessage(fShapeDim, d.size())
	}
	return n
}

func (v *valueInfo) tensorTypeSize() int {
	n := sizeVarint(fTensorTypeElem, uint64(v.elemType))
	if v.hasShape {
		n += sizeMessage(fTensorTypeShape, v.shapeSize())
	}
	return n
}

func (v *valueInfo) typeSize() int { return sizeMessage(fTypeTensorType, v.tensorTypeSize()) }

func (v *valueInfo) size() int {
	return sizeString(fValueInfoName, v.name) + sizeMessage(fValueInfoType, v.typeSize())
}

func (v *valueInfo) append(b []byte) []byte {
	b = appendString(b, fValueInfoName, v.name)
	b = appendMessageHeader(b, fValueInfoType, v.typeSize())
	b = appendMessageHeader(b, fTypeTensorType, v.tensorTypeSize())
	b = appendVarint(b, fTensorTypeElem, uint64(v.elemType))
	if v.hasShape {
		b = appendMessageHeader(b, fTensorTypeShape, v.shapeSize())
		for _, d := range v.shape {
			b = appendMessageHeader(b, fShapeDim, d.size())
			b = d.append(b)
		}
	}
	return b
}

// marshal encodes m into a buffer of exactly its size.
func (m *modelProto) marshal() []byte {
	n := m.size()
	return m.append(make([]byte, 0, n))
}
