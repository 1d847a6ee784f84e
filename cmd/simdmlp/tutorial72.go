package main

import (
	"github.com/simdmlp/simdmlp/mlp"
	"github.com/simdmlp/simdmlp/optim"
)

// vars72 holds the Python variables of chapter 7-2 that are not shared
// with other chapters.
type vars72 struct {
	dense1, dense2        *mlp.Layer
	sgd, adagrad, rmsprop optim.Optimizer
}

// cells72 is chapter 7-2, "deep neural networks": every code cell of the
// notebook, numbered as it is, with its statements in its order. The
// notebook's numbers skip cells its author ran and then deleted; those
// also advanced Keras's name counters, so from In [12] on the notebook's
// automatic names (sequential_2, dense_4, …) run ahead of the replay's.
func cells72(t *replay) []cell {
	v := &vars72{}
	var cells []cell
	for _, part := range []func(*replay, *vars72) []cell{data72, models72, training72, optimizers72} {
		cells = append(cells, part(t, v)...)
	}
	return cells
}

// data72 loads Fashion-MNIST and splits off the validation set, with the
// images as rows of 784 values.
func data72(t *replay, _ *vars72) []cell {
	return []cell{
		// Imports are shown and not run: Go resolved its own when the
		// command was built.
		{1, []step{
			show("from tensorflow import keras"),
			t.loadData("(train_input, train_target), (test_input, test_target) = keras.datasets.fashion_mnist.load_data()"),
		}},
		{3, []step{
			show("from sklearn.model_selection import train_test_split"),
			t.scale("train_scaled = train_input/255.0"),
			// Go's rows are already of 784 values (see scale).
			show("train_scaled = train_scaled.reshape(-1, 28*28)"),
			t.split("train_scaled, val_scaled, train_target, val_target = train_test_split(train_scaled, train_target, test_size=0.2, random_state=42)"),
		}},
	}
}

// models72 builds the sigmoid model the notebook's three ways: from two
// layers made beforehand, from named layers, and with add.
func models72(t *replay, v *vars72) []cell {
	return []cell{
		{5, []step{
			do("dense1 = keras.layers.Dense(100, activation='sigmoid', input_shape=(784,))", func() error {
				v.dense1 = mlp.Dense(100, "sigmoid", mlp.InputShape(784))
				return nil
			}),
			show("#dense1: 은닉층, 100개의 뉴런을 가진 밀집층. 활성화 함수를 시그모이드로 지정하고 입력의 크기는(784,)로 지정"),
		}},
		{6, []step{
			do("dense2 = keras.layers.Dense(10, activation='softmax')", func() error {
				v.dense2 = mlp.Dense(10, "softmax")
				return nil
			}),
			show("#dense2: 출력층. 10개의 클래스를 분류하므로 10개의 뉴런을 둠. 활성화 함수는 소프트맥스."),
		}},
		{7, []step{
			t.sequential("model = keras.Sequential([dense1, dense2])", "", func() []*mlp.Layer {
				return []*mlp.Layer{v.dense1, v.dense2}
			}),
		}},
		{8, []step{t.summary("model.summary()")}},
		{10, []step{
			t.sequential(`model = keras.Sequential([
    keras.layers.Dense(100, activation='sigmoid', input_shape=(784,), name='hidden'),
    keras.layers.Dense(10, activation='softmax', name='output')
], name='패션 MNIST 모델')`, "패션 MNIST 모델", func() []*mlp.Layer {
				return []*mlp.Layer{
					mlp.Dense(100, "sigmoid", mlp.InputShape(784), mlp.Name("hidden")),
					mlp.Dense(10, "softmax", mlp.Name("output")),
				}
			}),
			t.summary("model.summary()"),
		}},
		{12, []step{
			t.sequential("model = keras.Sequential()", "", nil),
			t.add("model.add(keras.layers.Dense(100, activation='sigmoid', input_shape=(784,)))", func() *mlp.Layer {
				return mlp.Dense(100, "sigmoid", mlp.InputShape(784))
			}),
			t.add("model.add(keras.layers.Dense(10, activation='softmax'))", softmax10),
			t.summary("model.summary()"),
		}},
	}
}

// training72 trains the sigmoid model, then builds the ReLU model that
// takes 28×28 images, reloads the data unflattened for it and trains it.
func training72(t *replay, _ *vars72) []cell {
	return []cell{
		{13, []step{
			show("#모델 훈련"),
			t.compile("model.compile(loss='sparse_categorical_crossentropy', metrics='accuracy')", nil),
			show(""),
			t.fit("model.fit(train_scaled, train_target, epochs=%d)"),
		}},
		{14, []step{t.evaluate("model.evaluate(val_scaled, val_target)")}},
		{15, reluModel(t)},
		{16, []step{t.summary("model.summary()")}},
		{17, []step{
			t.loadData("(train_input, train_target), (test_input, test_target) = keras.datasets.fashion_mnist.load_data()"),
			show(""),
			t.scale("train_scaled = train_input / 255.0"),
			show(""),
			t.split(`train_scaled, val_scaled, train_target, val_target = train_test_split(
    train_scaled, train_target, test_size=0.2, random_state=42)`),
		}},
		{18, []step{
			t.compile("model.compile(loss='sparse_categorical_crossentropy', metrics='accuracy')", nil),
			show(""),
			t.fit("model.fit(train_scaled, train_target, epochs=%d)"),
		}},
	}
}

// optimizers72 compiles the ReLU model with the optimizers the notebook
// shows, then trains a fresh one with Adam.
func optimizers72(t *replay, v *vars72) []cell {
	return []cell{
		{19, []step{
			t.compileNamed("model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy', metrics='accuracy')", "sgd"),
			do("sgd = keras.optimizers.SGD()", func() error { v.sgd = optim.SGD{}; return nil }),
			t.compile("model.compile(optimizer=sgd, loss='sparse_categorical_crossentropy', metrics='accuracy')", func() optim.Optimizer { return v.sgd }),
			do("sgd = keras.optimizers.SGD(learning_rate=0.1)", func() error {
				v.sgd = optim.SGD{LearningRate: 0.1}
				return nil
			}),
			do("sgd = keras.optimizers.SGD(momentum=0.9, nesterov=True)", func() error {
				v.sgd = optim.SGD{Momentum: 0.9, Nesterov: true}
				return nil
			}),
			do("adagrad = keras.optimizers.Adagrad()", func() error { v.adagrad = optim.Adagrad{}; return nil }),
			t.compile("model.compile(optimizer=adagrad, loss='sparse_categorical_crossentropy', metrics='accuracy')", func() optim.Optimizer { return v.adagrad }),
			do("rmsprop = keras.optimizers.RMSprop()", func() error { v.rmsprop = optim.RMSprop{}; return nil }),
			t.compile("model.compile(optimizer=rmsprop, loss='sparse_categorical_crossentropy', metrics='accuracy')", func() optim.Optimizer { return v.rmsprop }),
		}},
		{20, reluModel(t)},
		{21, []step{
			t.compileNamed("model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics='accuracy')", "adam"),
			t.fit("model.fit(train_scaled, train_target, epochs=%d)"),
			t.evaluate("model.evaluate(val_scaled, val_target)"),
		}},
	}
}

// reluModel is the cell, written twice in the notebook, that builds
// Flatten → Dense(100, relu) → Dense(10, softmax) with add.
func reluModel(t *replay) []step {
	return []step{
		t.sequential("model = keras.Sequential()", "", nil),
		t.add("model.add(keras.layers.Flatten(input_shape=(28, 28)))", func() *mlp.Layer {
			return mlp.Flatten(mlp.InputShape(28, 28))
		}),
		t.add("model.add(keras.layers.Dense(100, activation='relu'))", func() *mlp.Layer {
			return mlp.Dense(100, "relu")
		}),
		t.add("model.add(keras.layers.Dense(10, activation='softmax'))", softmax10),
	}
}

// softmax10 is the output layer of every model of the chapter.
func softmax10() *mlp.Layer { return mlp.Dense(10, "softmax") }
