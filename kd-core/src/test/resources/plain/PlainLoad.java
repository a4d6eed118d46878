// Run by PlainLoadTest with a class path that holds DL4J and ND4J but no kd4j class:
// loads a saved student with plain DL4J and prints its predictions for the features in a file.
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

public class PlainLoad {
    public static void main(String[] args) throws Exception {
        try {
            Class.forName("io.kd4j.losses.dl4j.DistillationLossFunction");
            System.out.println("KD4J_ON_CLASSPATH");
            return;
        } catch (ClassNotFoundException expected) {
            // the point of the test: kd4j is absent
        }
        MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(new File(args[0]));
        String[] parts = Files.readString(Path.of(args[1])).trim().split(",");
        float[] x = new float[parts.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = Float.parseFloat(parts[i]);
        }
        INDArray out = net.output(Nd4j.create(x, 1, x.length));
        System.out.println("PREDICTION " + Arrays.toString(out.toFloatVector()));
    }
}
