package io.kd4j.losses.testing;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Plain double re-implementations of the reference code of each feature loss (value only), written
 * from the PyTorch formulas step by step over nested arrays, independently of the code under test.
 */
public final class FeatureReference {
    private FeatureReference() {
    }

    /** {@code f.view(B, -1)} as nested arrays. */
    public static double[][] flat(INDArray a) {
        int b = (int) a.size(0);
        double[] d = a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        int w = d.length / b;
        double[][] out = new double[b][w];
        for (int i = 0; i < b; i++) {
            System.arraycopy(d, i * w, out[i], 0, w);
        }
        return out;
    }

    /** {@code f.view(B, C, -1)} as nested arrays. */
    public static double[][][] maps(INDArray a) {
        int b = (int) a.size(0);
        int c = (int) a.size(1);
        double[][] f = flat(a);
        int k = f[0].length / c;
        double[][][] out = new double[b][c][k];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < c; j++) {
                System.arraycopy(f[i], j * k, out[i][j], 0, k);
            }
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** {@code F.normalize(x, dim=-1)}: x / max(||x||, 1e-12). */
    private static double[] normalize(double[] x) {
        double n = Math.max(Math.sqrt(dot(x, x)), 1e-12);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] / n;
        }
        return y;
    }

    private static double smoothL1(double x) {
        return Math.abs(x) < 1 ? 0.5 * x * x : Math.abs(x) - 0.5;
    }

    /** RepDistiller AT: ((at(s) - at(t))^2).mean(), at(f) = normalize(f.pow(p).mean(1).view(B,-1)). */
    public static double attention(INDArray s, INDArray t, double p) {
        double[][][] fs = maps(s);
        double[][][] ft = maps(t);
        double sum = 0;
        int count = 0;
        for (int b = 0; b < fs.length; b++) {
            double[] as = normalize(channelMean(fs[b], p));
            double[] at = normalize(channelMean(ft[b], p));
            for (int k = 0; k < as.length; k++) {
                sum += (as[k] - at[k]) * (as[k] - at[k]);
                count++;
            }
        }
        return sum / count;
    }

    private static double[] channelMean(double[][] f, double p) {
        double[] a = new double[f[0].length];
        for (double[] ch : f) {
            for (int k = 0; k < a.length; k++) {
                a[k] += Math.pow(ch[k], p) / f.length;
            }
        }
        return a;
    }

    /** RepDistiller SP: G = f f^T, normalize rows, ||G_t - G_s||^2 / B^2. */
    public static double similarityPreserving(INDArray s, INDArray t) {
        double[][] gs = rowNormalizedGram(flat(s));
        double[][] gt = rowNormalizedGram(flat(t));
        int b = gs.length;
        double sum = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                sum += (gt[i][j] - gs[i][j]) * (gt[i][j] - gs[i][j]);
            }
        }
        return sum / (b * b);
    }

    private static double[][] rowNormalizedGram(double[][] f) {
        double[][] g = new double[f.length][f.length];
        for (int i = 0; i < f.length; i++) {
            for (int j = 0; j < f.length; j++) {
                g[i][j] = dot(f[i], f[j]);
            }
            g[i] = normalize(g[i]);
        }
        return g;
    }

    /** RepDistiller RKD distance part: smooth_l1(pdist(s)/mean, pdist(t)/mean), mean over B^2. */
    public static double rkdDistance(INDArray s, INDArray t) {
        double[][] ds = normalizedPdist(flat(s));
        double[][] dt = normalizedPdist(flat(t));
        double sum = 0;
        int b = ds.length;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                sum += smoothL1(ds[i][j] - dt[i][j]);
            }
        }
        return sum / (b * b);
    }

    private static double[][] normalizedPdist(double[][] e) {
        int b = e.length;
        double[][] d = new double[b][b];
        double sum = 0;
        int count = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                double sq = dot(e[i], e[i]) + dot(e[j], e[j]) - 2 * dot(e[i], e[j]);
                d[i][j] = i == j ? 0 : Math.sqrt(Math.max(sq, 1e-12));
                if (d[i][j] > 0) {
                    sum += d[i][j];
                    count++;
                }
            }
        }
        double mean = sum / count;
        for (double[] row : d) {
            for (int j = 0; j < b; j++) {
                row[j] /= mean;
            }
        }
        return d;
    }

    /** RepDistiller RKD angle part: smooth_l1 of <n(e_j - e_i), n(e_k - e_i)>, mean over B^3. */
    public static double rkdAngle(INDArray s, INDArray t) {
        double[][] es = flat(s);
        double[][] et = flat(t);
        int b = es.length;
        double sum = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                for (int k = 0; k < b; k++) {
                    double as = dot(normalize(minus(es[j], es[i])), normalize(minus(es[k], es[i])));
                    double at = dot(normalize(minus(et[j], et[i])), normalize(minus(et[k], et[i])));
                    sum += smoothL1(as - at);
                }
            }
        }
        return sum / ((double) b * b * b);
    }

    private static double[] minus(double[] a, double[] b) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }

    /** RepDistiller PKT cosine_similarity_loss with eps 1e-7. */
    public static double pkt(INDArray s, INDArray t) {
        double eps = 1e-7;
        double[][] ms = pktConditional(flat(s), eps);
        double[][] mt = pktConditional(flat(t), eps);
        int b = ms.length;
        double sum = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                sum += mt[i][j] * Math.log((mt[i][j] + eps) / (ms[i][j] + eps));
            }
        }
        return sum / (b * b);
    }

    private static double[][] pktConditional(double[][] f, double eps) {
        int b = f.length;
        double[][] x = new double[b][];
        for (int i = 0; i < b; i++) {
            double n = Math.sqrt(dot(f[i], f[i]));
            x[i] = new double[f[i].length];
            for (int k = 0; k < f[i].length; k++) {
                x[i][k] = f[i][k] / (n + eps);
            }
        }
        double[][] p = new double[b][b];
        for (int i = 0; i < b; i++) {
            double rs = 0;
            for (int j = 0; j < b; j++) {
                p[i][j] = (dot(x[i], x[j]) + 1) / 2;
                rs += p[i][j];
            }
            for (int j = 0; j < b; j++) {
                p[i][j] /= rs;
            }
        }
        return p;
    }

    /** RepDistiller Correlation: mean((delta[:-1] * delta[1:]).sum(1)). */
    public static double correlation(INDArray s, INDArray t) {
        double[][] fs = flat(s);
        double[][] ft = flat(t);
        double sum = 0;
        for (int b = 0; b + 1 < fs.length; b++) {
            for (int k = 0; k < fs[b].length; k++) {
                sum += Math.abs(fs[b][k] - ft[b][k]) * Math.abs(fs[b + 1][k] - ft[b + 1][k]);
            }
        }
        return sum / (fs.length - 1);
    }

    /** RepDistiller NST: poly(t,t).mean() + poly(s,s).mean() - 2 poly(s,t).mean(), channels normalised. */
    public static double nst(INDArray s, INDArray t) {
        double[][][] fs = maps(s);
        double[][][] ft = maps(t);
        for (double[][] ex : fs) {
            for (int c = 0; c < ex.length; c++) {
                ex[c] = normalize(ex[c]);
            }
        }
        for (double[][] ex : ft) {
            for (int c = 0; c < ex.length; c++) {
                ex[c] = normalize(ex[c]);
            }
        }
        return polyMean(ft, ft) + polyMean(fs, fs) - 2 * polyMean(fs, ft);
    }

    private static double polyMean(double[][][] a, double[][][] b) {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < a.length; i++) {
            for (double[] x : a[i]) {
                for (double[] y : b[i]) {
                    sum += Math.pow(dot(x, y), 2);
                    count++;
                }
            }
        }
        return sum / count;
    }

    /** RepDistiller VID with per-element variance: mean(0.5 ((mu - t)^2 / var + log var)). */
    public static double vid(double[] mu, double[] raw, double[] target, double eps) {
        double sum = 0;
        for (int i = 0; i < mu.length; i++) {
            double var = Math.log(1 + Math.exp(raw[i])) + eps;
            sum += 0.5 * ((mu[i] - target[i]) * (mu[i] - target[i]) / var + Math.log(var));
        }
        return sum / mu.length;
    }

    /** nn.CosineEmbeddingLoss(target=1, reduction=mean) over rows. */
    public static double cosineEmbedding(double[][] s, double[][] t) {
        double sum = 0;
        for (int i = 0; i < s.length; i++) {
            double cos = dot(s[i], t[i]) / Math.sqrt((dot(s[i], s[i]) + 1e-12) * (dot(t[i], t[i]) + 1e-12));
            sum += 1 - cos;
        }
        return sum / s.length;
    }

    /** Student-anchored InfoNCE: -log softmax of the positive over [t_i, t_j (j != i), memory], / tau. */
    public static double infoNce(INDArray s, INDArray t, double[][] memory, double tau) {
        double[][] fs = flat(s);
        double[][] ft = flat(t);
        double sum = 0;
        for (int i = 0; i < fs.length; i++) {
            double[] a = normalize(fs[i]);
            double pos = Math.exp(dot(a, normalize(ft[i])) / tau);
            double all = 0;
            for (double[] x : ft) {
                all += Math.exp(dot(a, normalize(x)) / tau);
            }
            for (double[] m : memory) {
                all += Math.exp(dot(a, m) / tau);
            }
            sum += -Math.log(pos / all);
        }
        return sum / fs.length;
    }
}
