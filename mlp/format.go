package mlp

import "encoding/json"

// The model file is a safetensors file: an 8-byte little-endian header
// length N, N bytes of JSON header (padded with spaces to a multiple of 8
// bytes so that the data start aligned), then the tensors' bytes. The
// header maps each tensor name to its dtype, shape and [begin, end) byte
// offsets relative to the first data byte, and "__metadata__" to a map of
// strings, where we keep the architecture.
const (
	// FormatName is the value of the "format" metadata key of a model file.
	FormatName = "simdmlp"
	// FormatVersion is the version written to the "format_version"
	// metadata key; Load accepts only versions it knows.
	FormatVersion = "1"

	// maxHeader caps the JSON header as the safetensors package does,
	// so that a corrupt length cannot make Load allocate gigabytes.
	maxHeader = 100_000_000
)

// Metadata keys of a model file. Values are strings, as safetensors
// requires; the lists are JSON text.
const (
	metaFormat     = "format"         // FormatName
	metaVersion    = "format_version" // FormatVersion
	metaName       = "model_name"     // the Sequential's name
	metaInputShape = "input_shape"    // JSON list: one sample's shape, e.g. [28, 28]
	metaLayers     = "layers"         // JSON list of layerSpec
	// metaTraining, present when the optimizer was saved, is a JSON
	// trainingSpec; the slots are then tensors named
	// "optimizer/<weight>/<slot>" (optimizerTensor).
	metaTraining = "training_config"
	// metaQuantization marks an int8 predictor file (Predictor.Save of a
	// QuantizedPredictor): its value is "int8", each Dense kernel is an
	// I8 tensor "<layer>/kernel" with an F32 tensor "<layer>/kernel_scale"
	// of one scale per unit beside it, and there is no training state.
	metaQuantization = "quantization"
)

// trainingSpec is the compile configuration and optimizer position saved
// with the optimizer's slots, in the "training_config" metadata.
type trainingSpec struct {
	Loss       string        `json:"loss"`
	Metrics    []string      `json:"metrics"`
	Optimizer  optimizerSpec `json:"optimizer_config"`
	Iterations int64         `json:"iterations"`
}

type optimizerSpec struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

// optimizerTensor names a slot's tensor for a weight ("dense/kernel") as
// Keras's optimizer variables are named: "optimizer/dense/kernel/m".
func optimizerTensor(weight, slot string) string { return "optimizer/" + weight + "/" + slot }

// layerSpec describes one layer in the "layers" metadata, with Keras's
// class names and activation strings.
type layerSpec struct {
	ClassName  string `json:"class_name"`
	Name       string `json:"name"`
	Units      int    `json:"units,omitempty"`
	Activation string `json:"activation,omitempty"`
	// Dropout only: the rate, and the seed of its masks, so that a
	// loaded model trains on as the saved one would have.
	Rate float64 `json:"rate,omitempty"`
	Seed uint64  `json:"seed,omitempty"`
}

// tensorInfo is one tensor's header entry, as the safetensors format
// defines it.
type tensorInfo struct {
	Dtype       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}
